from django.db.models import Sum

from .models import InvoiceLine


def invoice_total(invoice_id):
    return InvoiceLine.objects.filter(invoice_id=invoice_id).aggregate(total=Sum("amount"))["total"] or 0
