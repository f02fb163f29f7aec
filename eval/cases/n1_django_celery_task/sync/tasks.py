from celery import shared_task

from .models import Account


@shared_task
def apply_balances(payload):
    for entry in payload["accounts"]:
        account = Account.objects.get(external_id=entry["id"])  # expect[n+1]
        account.balance = entry["balance"]
        account.save(update_fields=["balance"])  # expect[n+1]


@shared_task
def apply_balances_fast(payload):
    by_id = {e["id"]: e["balance"] for e in payload["accounts"]}
    accounts = list(Account.objects.filter(external_id__in=list(by_id)))
    for account in accounts:
        account.balance = by_id[account.external_id]
    Account.objects.bulk_update(accounts, ["balance"])
