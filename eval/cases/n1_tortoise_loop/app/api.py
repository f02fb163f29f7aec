from fastapi import APIRouter

from .models import Customer, Invoice

router = APIRouter()


@router.get("/customers/totals")
async def totals(ids: str):
    out = {}
    for cid in ids.split(","):
        customer = await Customer.get(id=int(cid))  # expect[n+1]
        out[customer.name] = len(await Invoice.filter(customer_id=customer.id))  # expect[n+1]
    return out
