from django.db import models


class Message(models.Model):
    sender = models.CharField(max_length=200)
    body = models.TextField()
    read = models.BooleanField(default=False)
