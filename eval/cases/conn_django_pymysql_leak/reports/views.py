import pymysql
from django.conf import settings
from django.http import JsonResponse


def legacy_totals(request):
    db = pymysql.connect(**settings.LEGACY_DB)  # expect[conn]
    with db.cursor() as cur:
        cur.execute("SELECT region, SUM(amount) FROM sales WHERE year = %s GROUP BY region", (2024,))
        totals = dict(cur.fetchall())
    return JsonResponse(totals)
