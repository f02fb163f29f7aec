from celery import shared_task

from .models import Order

BATCH = 500


@shared_task
def close_stale(order_ids):
    orders = list(Order.objects.filter(pk__in=order_ids).only("id", "status"))
    for order in orders:
        order.status = "closed"
    Order.objects.bulk_update(orders, ["status"], batch_size=BATCH)


@shared_task
def archive(order_ids):
    for start in range(0, len(order_ids), BATCH):
        chunk = order_ids[start:start + BATCH]
        Order.objects.filter(pk__in=chunk).update(status="archived")
