from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Board(models.Model):
    title = models.CharField(max_length=100)


class Card(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE)
    text = models.TextField()


class Comment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    body = models.TextField()
