from flask import Blueprint, jsonify, request

from .models import Post

bp = Blueprint("blog", __name__)


@bp.get("/posts")
def list_posts():
    page = Post.query.order_by(Post.id.desc()).paginate(page=request.args.get("page", 1, type=int), per_page=20)
    return jsonify([
        {"title": p.title, "by": p.author.username}  # expect[n+1]
        for p in page.items
    ])
