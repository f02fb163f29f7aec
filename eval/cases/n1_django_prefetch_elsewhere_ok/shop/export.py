import csv

from .selectors import orders_for_export


def write_export(fh, status="paid"):
    writer = csv.writer(fh)
    for order in orders_for_export(status):
        labels = ";".join(t.label for t in order.tags.all())
        writer.writerow([order.pk, order.customer.email, labels])
