from .models import Tweet, User


def timeline(limit=50):
    query = (Tweet
             .select(Tweet, User)
             .join(User)
             .order_by(Tweet.id.desc())
             .limit(limit))
    return [(t.user.username, t.body) for t in query]


def post_all(rows):
    with User._meta.database.atomic():
        Tweet.insert_many(rows).execute()


def author_ids():
    return [t.user_id for t in Tweet.select(Tweet.user).limit(100)]
