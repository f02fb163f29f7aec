from flask import Blueprint, render_template, request

from .models import Author, Post, db

bp = Blueprint("posts", __name__)


@bp.route("/")
def index():
    page = db.paginate(db.select(Post).order_by(Post.id.desc()), per_page=25)
    bylines = {}
    for post in page:
        bylines[post.id] = post.author.username  # expect[n+1]
    return render_template("index.html", page=page, bylines=bylines)


@bp.route("/authors")
def authors():
    stmt = db.select(Author).order_by(Author.username)
    page = db.paginate(stmt, page=request.args.get("p", 1, type=int))
    return render_template("authors.html", names=[a.username for a in page])
