import redis
from django.http import JsonResponse

POOL = redis.ConnectionPool(host="cache", port=6379)


def hits(request):
    client = redis.Redis(connection_pool=POOL)
    return JsonResponse({"hits": int(client.incr("hits"))})


def misses(request):
    client = redis.StrictRedis(host="cache", port=6379)  # expect[conn]
    return JsonResponse({"misses": int(client.incr("misses"))})
