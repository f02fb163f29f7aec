from .models import Customer, Order


class OrderIndex:
    def __init__(self, status: str) -> None:
        self.status = status

    def customer_ids(self) -> set[int]:
        ids = set()
        for order in Order.objects.filter(status=self.status):
            ids.add(order.customer_id)
        return ids

    def customers(self):
        return Customer.objects.filter(pk__in=self.customer_ids()).only("email")
