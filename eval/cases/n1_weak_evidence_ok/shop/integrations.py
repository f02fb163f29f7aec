import requests
from django.core.cache import cache
from PIL import Image


def sync_remote_orders(client):
    out = []
    for order in client.list_orders():
        out.append((order.number, order.customer.name))
    return out


def from_json(payload):
    return [(o["number"], o["customer"]["name"]) for o in payload["orders"]]


def thumbnails(paths):
    for p in paths:
        img = Image.open(p)
        img.thumbnail((128, 128))
        img.save(p + ".thumb.png")


def forget(keys):
    for key in keys:
        cache.delete(key)


def ping_all(urls):
    return [requests.get(u, timeout=5).status_code for u in urls]


def order_labels(orders):
    return [f"{o.number}" for o in orders]
