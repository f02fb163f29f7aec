from celery import shared_task

from .models import Customer, Order


@shared_task
def close_stale(order_ids):
    for oid in order_ids:
        order = Order.objects.get(pk=oid)  # expect[n+1]
        order.status = "closed"
        order.save(update_fields=["status"])  # expect[n+1]


@shared_task(bind=True, max_retries=3)
def rename_customer(self, customer_id, name):
    Customer.objects.filter(pk=customer_id).update(name=name)
