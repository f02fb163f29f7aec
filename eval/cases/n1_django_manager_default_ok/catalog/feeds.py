from .models import Product


def merchant_feed():
    for product in Product.objects.visible().order_by("title"):
        yield {"title": product.title, "brand": product.brand.name}
