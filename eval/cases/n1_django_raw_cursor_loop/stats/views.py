from django.db import connection
from django.http import JsonResponse


def daily_counts(request):
    days = request.GET.getlist("day")
    out = {}
    with connection.cursor() as cursor:
        for day in days:
            cursor.execute("SELECT count(*) FROM orders WHERE created::date = %s", [day])  # expect[n+1]
            out[day] = cursor.fetchone()[0]
    return JsonResponse(out)
