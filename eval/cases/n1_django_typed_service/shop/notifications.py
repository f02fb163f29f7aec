from __future__ import annotations

from dataclasses import dataclass

from django.core.mail import send_mail

from .models import Order


@dataclass
class ShippingNotifier:
    sender: str = "noreply@example.com"

    def _pending(self):
        return Order.objects.filter(status="shipped")

    def run(self) -> int:
        sent = 0
        for order in self._pending():
            recipient: str = order.customer.email  # expect[n+1]
            send_mail("Shipped", f"Order {order.pk}", self.sender, [recipient])
            sent += 1
        return sent
