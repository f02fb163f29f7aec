from .models import Order


def open_orders():
    return Order.objects.filter(open=True)


def open_orders_with_customer():
    return Order.objects.filter(open=True).select_related("customer")
