from django.views.generic import DetailView, ListView

from .models import Customer, Order


class CustomerDetail(DetailView):
    model = Customer

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["tag_sets"] = [
            [t.label for t in order.tags.all()]  # expect[n+1]
            for order in self.object.orders.all()
        ]
        return ctx


class OrderList(ListView):
    paginate_by = 50

    def get_queryset(self):
        return Order.objects.select_related("customer").order_by("-created")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["emails"] = sorted({o.customer.email for o in ctx["object_list"]})
        return ctx
