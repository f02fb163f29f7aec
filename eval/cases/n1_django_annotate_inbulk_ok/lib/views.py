from django.core.paginator import Paginator
from django.db.models import Count
from django.http import JsonResponse

from .models import Author, Book


def author_counts(request):
    authors = Author.objects.annotate(n_books=Count("books"))
    return JsonResponse({a.name: a.n_books for a in authors})


def titles_by_author(request):
    ids = [int(i) for i in request.GET.getlist("author")]
    authors = Author.objects.in_bulk(ids)
    books = Book.objects.filter(author_id__in=ids)
    return JsonResponse({"rows": [(authors[b.author_id].name, b.title) for b in books]})


def export_all(request):
    paginator = Paginator(Book.objects.select_related("author").order_by("id"), 500)
    rows = []
    for number in paginator.page_range:
        for book in paginator.page(number).object_list:
            rows.append((book.title, book.author.name))
    return JsonResponse({"rows": rows})


def chunked_delete(request):
    ids = list(Book.objects.filter(title="").values_list("id", flat=True))
    for start in range(0, len(ids), 1000):
        Book.objects.filter(id__in=ids[start:start + 1000]).delete()
    return JsonResponse({"deleted": len(ids)})
