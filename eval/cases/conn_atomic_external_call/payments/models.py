from django.db import models


class Payment(models.Model):
    status = models.CharField(max_length=20)
