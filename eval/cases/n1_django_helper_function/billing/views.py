from django.http import JsonResponse

from .models import Invoice
from .selectors import invoice_total


def invoice_detail(request, invoice_id):
    return JsonResponse({"total": str(invoice_total(invoice_id))})


def customer_invoices(request, customer_id):
    rows = []
    for inv in Invoice.objects.filter(customer_id=customer_id):
        rows.append({"number": inv.number, "total": str(invoice_total(inv.id))})  # expect[n+1]
    return JsonResponse({"invoices": rows})
