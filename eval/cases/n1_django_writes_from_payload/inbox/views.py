from rest_framework.decorators import api_view
from rest_framework.response import Response

from .models import Message


@api_view(["POST"])
def import_messages(request):
    created = 0
    for item in request.data.get("messages", []):
        Message.objects.create(sender=item["from"], body=item["body"])  # expect[n+1]
        created += 1
    return Response({"created": created})


@api_view(["POST"])
def import_messages_bulk(request):
    objs = [Message(sender=i["from"], body=i["body"]) for i in request.data.get("messages", [])]
    Message.objects.bulk_create(objs)
    return Response({"created": len(objs)})


@api_view(["POST"])
def mark_read(request):
    ids = request.data.get("ids", [])
    for message_id in ids:
        Message.objects.filter(pk=message_id).update(read=True)  # expect[n+1]
    return Response({"ok": True})


@api_view(["POST"])
def mark_read_fast(request):
    Message.objects.filter(pk__in=request.data.get("ids", [])).update(read=True)
    return Response({"ok": True})
