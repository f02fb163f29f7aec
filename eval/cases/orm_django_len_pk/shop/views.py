from django.http import JsonResponse

from .models import Order


def dashboard(request):
    open_orders = Order.objects.filter(customer__email=request.user.email, status="open")
    n_open = len(open_orders)  # expect[orm]
    return JsonResponse({"open": n_open})


def order_ids(request):
    ids = [o.pk for o in Order.objects.filter(status="paid")]  # expect[orm]
    return JsonResponse({"ids": ids})


def first_open(request):
    qs = Order.objects.filter(status="open").order_by("created")
    first = qs[0] if qs.exists() else None
    return JsonResponse({"id": first.pk if first else None, "count": qs.count()})
