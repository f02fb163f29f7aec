from rest_framework import generics

from .models import Item
from .serializers import ItemSerializer


class ItemList(generics.ListAPIView):
    queryset = Item.objects.all()  # expect[n+1]
    serializer_class = ItemSerializer


class ItemListFast(generics.ListAPIView):
    queryset = Item.objects.select_related("brand")
    serializer_class = ItemSerializer
