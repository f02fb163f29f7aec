from peewee import prefetch

from models import Customer, Purchase


def purchase_lines():
    return [f"{p.customer.name}: {p.item}" for p in Purchase.select()]  # expect[n+1]


def purchase_lines_joined():
    query = Purchase.select(Purchase, Customer).join(Customer)
    return [f"{p.customer.name}: {p.item}" for p in query]


def customers_with_items():
    out = {}
    for c in prefetch(Customer.select(), Purchase.select()):
        out[c.name] = [p.item for p in c.purchases]
    return out


def lookup(names):
    return [Customer.get(Customer.name == n) for n in names]  # expect[n+1]
