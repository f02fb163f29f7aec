from django.http import JsonResponse

from .models import Customer, Order


async def order_owners(request):
    owners = []
    async for order in Order.objects.filter(status="open"):
        customer = await Customer.objects.aget(pk=order.customer_id)  # expect[n+1]
        owners.append(customer.email)
    return JsonResponse({"owners": owners})


async def order_owners_fast(request):
    owners = [o.customer.email async for o in Order.objects.select_related("customer")]
    return JsonResponse({"owners": owners})
