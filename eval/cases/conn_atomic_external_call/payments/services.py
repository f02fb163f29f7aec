import requests
from django.db import transaction

from .models import Payment


def capture(payment_id):
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        payment.status = "capturing"
        payment.save(update_fields=["status"])
    resp = requests.post("https://psp.example/capture", json={"id": payment_id}, timeout=10)
    with transaction.atomic():
        Payment.objects.filter(pk=payment_id).update(status="captured" if resp.ok else "failed")
