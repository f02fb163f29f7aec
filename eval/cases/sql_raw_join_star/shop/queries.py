from .models import Product


def cheap_products():
    return list(Product.objects.raw("SELECT * FROM shop_product WHERE price < %s", [10]))


def products_with_stock():
    return list(Product.objects.raw("SELECT * FROM shop_product p JOIN shop_stock s ON s.product_id = p.id WHERE s.qty > 0"))  # expect[sql]
