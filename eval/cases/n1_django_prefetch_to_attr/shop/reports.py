from django.db.models import Count, Prefetch

from .models import Customer, Order


def recent_summary():
    customers = Customer.objects.prefetch_related(
        Prefetch("orders", queryset=Order.objects.order_by("-created")[:5], to_attr="recent")
    )
    return {c.email: [o.total for o in c.recent] for c in customers}


def paid_counts():
    return {c.email: c.n_paid for c in Customer.objects.annotate(n_paid=Count("orders"))}


def open_totals():
    out = {}
    for c in Customer.objects.prefetch_related("orders"):
        out[c.email] = sum(o.total for o in c.orders.filter(status="open"))  # expect[n+1]
    return out


def order_counts():
    return {c.email: c.orders.count() for c in Customer.objects.all()}  # expect[n+1]
