from django.http import JsonResponse

from .models import Item


def first_item(request):
    item = Item.objects.order_by("name").all()[0]
    return JsonResponse({"name": item.name})


def items(request):
    qs = Item.objects.filter(price__gt=0)
    if not qs:
        return JsonResponse({"items": []})
    return JsonResponse({"count": len(qs), "items": [{"name": i.name, "price": i.price} for i in qs]})


def cheapest(request):
    item = Item.objects.order_by("price").first()
    return JsonResponse({"name": item.name if item else None})
