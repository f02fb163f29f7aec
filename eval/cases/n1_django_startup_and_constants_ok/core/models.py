from django.db import models


class Setting(models.Model):
    key = models.CharField(max_length=50, unique=True)
    value = models.CharField(max_length=200)


class Group(models.Model):
    name = models.CharField(max_length=50, unique=True)
