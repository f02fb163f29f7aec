from sqlalchemy.orm import joinedload

from .models import Post, User


def published_counts(session):
    return {u.name: u.posts.filter(Post.published == 1).count() for u in session.query(User).all()}  # expect[n+1]


def cities(session):
    users = session.query(User).options(joinedload(User.addresses)).all()
    return {u.name: [a.city for a in u.addresses] for u in users}


def post_authors(session):
    return [p.author.name for p in session.query(Post).all()]  # expect[n+1]
