from .models import Tweet, User


def post_all(pairs):
    for username, body in pairs:
        author = User.get(User.username == username)  # expect[n+1]
        Tweet.create(user=author, body=body)  # expect[n+1]


def lookup(username):
    return User.get_or_none(User.username == username)
