from .models import Order


def pending_count(customer_id):
    return len(Order.objects.filter(customer_id=customer_id, status="pending"))  # expect[orm]


def has_pending(customer_id):
    if Order.objects.filter(customer_id=customer_id, status="pending"):  # expect[orm]
        return True
    return False


def first_pending(customer_id):
    return list(Order.objects.filter(customer_id=customer_id, status="pending"))[0]  # expect[orm]


def pending_report(customer_id):
    pending = Order.objects.filter(customer_id=customer_id, status="pending")
    if not pending:
        return "none"
    return ", ".join(str(o.id) for o in pending)


def latest(customer_id):
    return Order.objects.filter(customer_id=customer_id).order_by("-id")[0]
