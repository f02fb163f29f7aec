from django.http import JsonResponse

from .models import Category


def menu(request):
    result = {}
    for category in Category.objects.prefetch_related("products"):
        result[category.name] = [p.name for p in category.products.filter(active=True)]  # expect[n+1]
    return JsonResponse(result)


def menu_counts(request):
    result = {}
    for category in Category.objects.prefetch_related("products"):
        result[category.name] = len(category.products.all())
    return JsonResponse(result)
