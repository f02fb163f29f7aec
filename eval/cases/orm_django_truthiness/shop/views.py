from django.http import JsonResponse

from .models import Order


def has_open(request):
    open_orders = Order.objects.filter(customer__email=request.user.email, status="open")
    if open_orders:  # expect[orm]
        return JsonResponse({"open": True})
    return JsonResponse({"open": False})


def open_list(request):
    qs = Order.objects.filter(status="open").values("id", "total")
    if not qs:
        return JsonResponse({"orders": []})
    return JsonResponse({"orders": [dict(r) for r in qs]})


def count_open(request):
    return JsonResponse({"n": Order.objects.filter(status="open").count()})
