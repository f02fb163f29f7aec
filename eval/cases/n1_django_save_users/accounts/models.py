from django.db import models


class Account(models.Model):
    email = models.EmailField()
    active = models.BooleanField(default=True)
