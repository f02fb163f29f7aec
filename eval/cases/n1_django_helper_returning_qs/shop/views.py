from django.http import JsonResponse

from .selectors import open_orders, open_orders_with_customer


def board(request):
    return JsonResponse({"rows": [(o.number, o.customer.name) for o in open_orders()]})  # expect[n+1]


def board_fast(request):
    return JsonResponse({"rows": [(o.number, o.customer.name) for o in open_orders_with_customer()]})


def numbers(request):
    return JsonResponse({"rows": [o.number for o in open_orders()]})
