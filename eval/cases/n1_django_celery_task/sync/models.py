from django.db import models


class Account(models.Model):
    external_id = models.CharField(max_length=40, unique=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2)
