from django.http import JsonResponse
from sqlalchemy import text

from .db import cached_engine, reports_engine


def monthly(request):
    engine = reports_engine()  # expect[conn]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT month, total FROM monthly_totals WHERE year = :y"), {"y": int(request.GET["year"])}).all()
    return JsonResponse({"rows": [list(r) for r in rows]})


def weekly(request):
    with cached_engine().connect() as conn:
        rows = conn.execute(text("SELECT week, total FROM weekly_totals WHERE year = :y"), {"y": int(request.GET["year"])}).all()
    return JsonResponse({"rows": [list(r) for r in rows]})
