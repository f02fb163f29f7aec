from .models import Customer, Order


def customers_without_orders():
    lonely = []
    for customer in Customer.objects.only("id", "email"):
        if not Order.objects.filter(customer=customer).exists():  # expect[n+1]
            lonely.append(customer.email)
    return lonely


def selected_but_reverse():
    rows = []
    for order in Order.objects.select_related("customer"):
        rows.append((order.customer.email, order.customer.orders.count()))  # expect[n+1]
    return rows
