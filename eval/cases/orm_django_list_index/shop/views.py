from django.http import JsonResponse

from .models import Order


def latest(request):
    newest = list(Order.objects.order_by("-created"))[0]  # expect[orm]
    return JsonResponse({"id": newest.pk})


def latest_ok(request):
    newest = Order.objects.order_by("-created")[0]
    oldest = Order.objects.order_by("created").first()
    return JsonResponse({"newest": newest.pk, "oldest": oldest.pk if oldest else None})
