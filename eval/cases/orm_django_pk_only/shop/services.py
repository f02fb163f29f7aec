from .models import Order


def pending_ids():
    return [o.id for o in Order.objects.filter(status="pending")]  # expect[orm]


def pending_summary():
    return [(o.id, o.status, o.total) for o in Order.objects.filter(status="pending")]


def pending_ids_fast():
    return list(Order.objects.filter(status="pending").values_list("id", flat=True))
