from rest_framework import generics, serializers

from .models import Customer, Order


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "email"]


class OrderSerializer(serializers.ModelSerializer):
    customer = CustomerSerializer(read_only=True)

    class Meta:
        model = Order
        fields = ["id", "total", "customer"]


class RecentOrders(generics.ListAPIView):
    serializer_class = OrderSerializer
    queryset = Order.objects.order_by("-created")  # expect[n+1]


class CustomerOrders(generics.ListAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return Order.objects.select_related("customer").filter(customer_id=self.kwargs["pk"])
