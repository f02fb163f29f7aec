from django.db import models


class Invoice(models.Model):
    number = models.CharField(max_length=20)
    customer_id = models.IntegerField()


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
