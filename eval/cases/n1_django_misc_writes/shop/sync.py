from .models import Customer, Order, Tag


def sync_customers(rows):
    for row in rows:
        Customer.objects.update_or_create(email=row["email"], defaults={"name": row["name"]})  # expect[n+1]


def tag_orders(order_ids, label):
    tag, _ = Tag.objects.get_or_create(label=label)
    for order in Order.objects.filter(pk__in=order_ids):
        order.tags.add(tag)  # expect[n+1]


def tag_orders_fast(order_ids, label):
    tag, _ = Tag.objects.get_or_create(label=label)
    tag.orders.add(*order_ids)
