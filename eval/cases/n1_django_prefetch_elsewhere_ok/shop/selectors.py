from .models import Order


def orders_for_export(status):
    return (
        Order.objects.filter(status=status)
        .select_related("customer")
        .prefetch_related("tags")
    )
