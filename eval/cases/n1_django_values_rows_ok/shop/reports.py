from collections import defaultdict

from .models import Order


def revenue_by_customer():
    rows = Order.objects.filter(status="paid").values("customer__email", "total")
    out = defaultdict(int)
    for row in rows:
        out[row["customer__email"]] += row["total"]
    return dict(out)


def statuses():
    return {oid: st for oid, st in Order.objects.values_list("id", "status")}
