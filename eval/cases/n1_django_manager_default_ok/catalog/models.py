from django.db import models


class Brand(models.Model):
    name = models.CharField(max_length=60)


class ProductQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(hidden=False)


class ProductManager(models.Manager.from_queryset(ProductQuerySet)):
    def get_queryset(self):
        return super().get_queryset().select_related("brand")


class Product(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT)
    title = models.CharField(max_length=120)
    hidden = models.BooleanField(default=False)

    objects = ProductManager()
