from django.contrib.auth.models import User
from django.http import JsonResponse
from django.views.generic import ListView

from .models import Line, Order


def order_lines(request):
    orders = Order.objects.filter(user=request.user).prefetch_related("lines")
    out = []
    for order in orders:
        for line in order.lines.all():
            out.append({"order": order.id, "product": line.product.name, "qty": line.qty})  # expect[n+1]
    return JsonResponse({"lines": out})


def order_lines_fast(request):
    orders = Order.objects.filter(user=request.user).prefetch_related("lines__product")
    out = []
    for order in orders:
        for line in order.lines.all():
            out.append({"order": order.id, "product": line.product.name, "qty": line.qty})
    return JsonResponse({"lines": out})


def bios(request):
    return JsonResponse({u.username: u.profile.bio for u in User.objects.filter(is_active=True)})  # expect[n+1]


def _recent_lines():
    return Line.objects.select_related("product", "order").order_by("-id")[:100]


def recent(request):
    return JsonResponse({"rows": [(l.product.name, l.order.created.isoformat()) for l in _recent_lines()]})


class LineList(ListView):
    model = Line

    def get_queryset(self):
        return Line.objects.select_related("product")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["names"] = [l.product.name for l in self.get_queryset()]
        return ctx
