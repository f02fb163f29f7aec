from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField()
    notes = models.TextField(blank=True)


class Subscription(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    plan = models.CharField(max_length=20)
