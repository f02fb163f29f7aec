from django.db import models


class Project(models.Model):
    name = models.CharField(max_length=100)


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    done = models.BooleanField(default=False)
