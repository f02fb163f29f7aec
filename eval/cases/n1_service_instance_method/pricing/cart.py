from .service import PriceService


def total(conn, skus):
    svc = PriceService(conn)
    amount = 0
    for sku in skus:
        amount += svc.price(sku)  # expect[n+1]
    return svc.fmt(amount)


def labels(conn, values):
    svc = PriceService(conn)
    return [svc.fmt(v) for v in values]
