from django.db import models


class Brand(models.Model):
    name = models.CharField(max_length=100)


class Item(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT)
    title = models.CharField(max_length=200)
