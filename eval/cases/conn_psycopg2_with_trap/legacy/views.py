import psycopg2
from django.conf import settings
from django.http import JsonResponse


def balance(request, account_id):
    with psycopg2.connect(settings.LEDGER_DSN) as conn:  # expect[conn]
        with conn.cursor() as cur:
            cur.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,))
            row = cur.fetchone()
    return JsonResponse({"balance": str(row[0]) if row else None})
