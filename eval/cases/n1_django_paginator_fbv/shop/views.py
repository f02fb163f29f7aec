from django.core.paginator import Paginator
from django.shortcuts import render

from .models import Customer, Order


def customer_list(request):
    paginator = Paginator(Customer.objects.order_by("email"), 30)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = []
    for customer in page_obj:
        rows.append((customer.email, customer.orders.count()))  # expect[n+1]
    return render(request, "customers.html", {"page_obj": page_obj, "rows": rows})


def order_list(request):
    paginator = Paginator(Order.objects.select_related("customer").order_by("-created"), 30)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = [(o.pk, o.customer.email) for o in page_obj]
    return render(request, "orders.html", {"page_obj": page_obj, "rows": rows})
