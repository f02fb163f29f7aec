from django.http import JsonResponse

from .models import Author, Post


def author_stats(request):
    data = []
    for author in Author.objects.order_by("name"):
        data.append({"name": author.name, "posts": author.posts.count()})  # expect[n+1]
    return JsonResponse({"authors": data})


def tag_cloud(request):
    out = {}
    for post in Post.objects.filter(published=True):
        out[post.title] = [t.name for t in post.tags.all()]  # expect[n+1]
    return JsonResponse(out)


def tag_cloud_fast(request):
    out = {}
    for post in Post.objects.filter(published=True).prefetch_related("tags"):
        out[post.title] = [t.name for t in post.tags.all()]
    return JsonResponse(out)


def author_names(request):
    rows = Post.objects.values("title", "author__name")
    return JsonResponse({"rows": [{"title": r["title"], "author": r["author__name"]} for r in rows]})


def author_ids(request):
    return JsonResponse({"ids": [p.author_id for p in Post.objects.filter(published=True)[:100]]})
