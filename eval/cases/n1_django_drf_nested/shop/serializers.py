from rest_framework import serializers

from .models import Brand, Item


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name"]


class ItemSerializer(serializers.ModelSerializer):
    brand = BrandSerializer()

    class Meta:
        model = Item
        fields = ["id", "title", "brand"]
