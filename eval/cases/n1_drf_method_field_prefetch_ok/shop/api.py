from rest_framework import serializers, viewsets

from .models import Order


class OrderSerializer(serializers.ModelSerializer):
    tag_labels = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "total", "tag_labels", "email"]

    def get_tag_labels(self, obj):
        return [t.label for t in obj.tags.all()]

    def get_email(self, obj):
        return obj.customer.email


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderSerializer

    def get_queryset(self):
        qs = Order.objects.filter(status=self.request.query_params.get("status", "open"))
        return qs.select_related("customer").prefetch_related("tags")
