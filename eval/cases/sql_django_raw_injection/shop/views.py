from django.db import connection
from django.http import JsonResponse

from .models import Product

TABLE = Product._meta.db_table


def by_sku(request):
    sku = request.GET["sku"]
    rows = Product.objects.raw("SELECT id, name FROM shop_product WHERE sku = '" + sku + "'")  # expect[sql]
    return JsonResponse({"names": [p.name for p in rows]})


def by_name(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shop_product WHERE name = %s", [request.GET["name"]])
        return JsonResponse({"ids": [r[0] for r in cursor.fetchall()]})


def count_all(request):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        return JsonResponse({"n": cursor.fetchone()[0]})
