from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    id = fields.IntField(pk=True)
    name = fields.CharField(max_length=100)


class Invoice(Model):
    id = fields.IntField(pk=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="invoices")
    total = fields.DecimalField(max_digits=10, decimal_places=2)
