from .models import Member, Subscription


def mailing_list():
    return [(m.name, m.email) for m in Member.objects.only("name")]  # expect[n+1]


def subscribed(members):
    return [m for m in members if Subscription.objects.filter(member=m).exists()]  # expect[n+1]


def subscribed_fast(members):
    ids = set(Subscription.objects.filter(member__in=members).values_list("member_id", flat=True))
    return [m for m in members if m.id in ids]


def member_names():
    return [m.name for m in Member.objects.only("name")]


def fetch_with_retry(pk):
    for attempt in range(3):
        try:
            return Member.objects.get(pk=pk)
        except Member.DoesNotExist:
            continue
