"""peewee family (QL130-QL132, QL412-QL413) and Tortoise ORM (QL135-QL136): one case per fact."""
import pytest

from querylint.testing import lint_files

MODELS = '''
from peewee import CharField, DeferredForeignKey, ForeignKeyField, ManyToManyField, Model, SqliteDatabase

db = SqliteDatabase(":memory:")


class Base(Model):
    class Meta:
        database = db


class User(Base):
    username = CharField()


class Tweet(Base):
    user = ForeignKeyField(User, backref="tweets")
    reviewer = ForeignKeyField(User, null=True)


class Note(Base):
    author = DeferredForeignKey("User", backref="+")
'''

HEADER = '''
from peewee import prefetch
from app.models import Note, Tweet, User
'''


def codes(body, select=("QL13", "QL41")):
    offset = HEADER.count("\n")
    result = lint_files({"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": HEADER + body}, select=list(select))
    assert result.errors == []
    return {(f.span.line - offset, f.variant) for f in result.findings if f.path.endswith("views.py")}


@pytest.mark.parametrize(
    "body, want",
    [
        ("def f():\n    return [t.user.username for t in Tweet.select()]\n", {(2, "QL132")}),
        ("def f():\n    return [t.user_id for t in Tweet.select()]\n", set()),
        ("def f():\n    return [t.user.username for t in Tweet.select(Tweet, User).join(User)]\n", set()),
        ("def f():\n    q = Tweet.select().where(Tweet.id > 3)\n    for t in q:\n        print(t.user)\n", {(4, "QL132")}),
        ("def f():\n    for i, t in enumerate(Tweet.select()):\n        print(i, t.user)\n", {(3, "QL132")}),
        # a sort key runs once per row
        ("def f():\n    return sorted(Tweet.select(), key=lambda t: t.user.username)\n", {(2, "QL132")}),
        ("def f():\n    return sorted(Tweet.select(Tweet, User).join(User), key=lambda t: t.user.username)\n", set()),
        # default backref name: <model>_set
        ("def f():\n    return [len(list(u.tweet_set)) for u in User.select()]\n", {(2, "QL132")}),
        ("def f():\n    return [[t.id for t in u.tweets] for u in prefetch(User.select(), Tweet)]\n", set()),
        ("def f():\n    return [[t.id for t in u.tweets] for u in User.select().prefetch(Tweet)]\n", set()),
        # a backref only passed along is not run here
        ("def f(render):\n    return [render(u.tweets) for u in User.select()]\n", set()),
        # queries
        ("def f(names):\n    return [User.get_or_none(User.username == n) for n in names]\n", {(2, "QL130")}),
        ("def f(ids):\n    return [User[i] for i in ids]\n", {(2, "QL130")}),
        ("def f(ids):\n    return [User.select().where(User.id == i).exists() for i in ids]\n", {(2, "QL130")}),
        ("def f(ids):\n    return {u.id: u for u in User.select().where(User.id.in_(ids))}\n", set()),
        ("def f(cache, ids):\n    return [cache.get(i) for i in ids]\n", set()),
        # frigate: one query object iterated on every pass runs once and keeps its rows
        ("def f(rows):\n    tweets = Tweet.select()\n    for r in rows:\n        for t in tweets:\n            print(r, t.id)\n", set()),
        ("def f(rows):\n    for r in rows:\n        tweets = Tweet.select().where(Tweet.id > r)\n        for t in tweets:\n            print(t.id)\n", {(4, "QL130")}),
        # writes
        ("def f(rows):\n    for r in rows:\n        u = User(username=r)\n        u.save()\n", {(4, "QL131")}),
        ("def f(ids):\n    for i in ids:\n        Tweet.delete().where(Tweet.id == i).execute()\n", {(3, "QL131")}),
        ("def f(rows):\n    with db.atomic():\n        User.insert_many([{'username': r} for r in rows]).execute()\n", set()),
        # over-fetch
        ("def f():\n    return len(User.select())\n", {(2, "QL412")}),
        ("def f():\n    return len(User.select().limit(10))\n", set()),
        ("def f(u):\n    return len(u.tweets)\n", set()),
        ("def f():\n    return list(User.select())[0]\n", {(2, "QL413")}),
        ("def f():\n    return len(list(User.select()))\n", {(2, "QL412")}),
        ("def f(n):\n    if User.select().where(User.username == n):\n        return 1\n", {(2, "QL416")}),
        ("def f(n):\n    q = User.select().where(User.username == n)\n    if q:\n        return [u.username for u in q]\n", set()),
        ("def f(n):\n    return User.select().where(User.username == n).exists()\n", set()),
        ("def f():\n    return [u.id for u in User.select()]\n", {(2, "QL417")}),
        ("def f():\n    return [u.id for u in User.select(User.id)]\n", set()),
        ("def f():\n    return [u.username for u in User.select()]\n", set()),
    ],
)
def test_peewee(body, want):
    assert codes(body) == want


TORTOISE = '''
from tortoise import fields
from tortoise.models import Model


class Team(Model):
    id = fields.IntField(pk=True)


class Player(Model):
    id = fields.IntField(pk=True)
    team = fields.ForeignKeyField("models.Team", related_name="players")
'''


@pytest.mark.parametrize(
    "body, want",
    [
        ("async def f(ids):\n    return [await Team.get(id=i) for i in ids]\n", {(2, "QL135")}),
        ("async def f():\n    for p in await Player.all():\n        print((await p.team).id)\n", {(3, "QL135")}),
        ("async def f():\n    for p in await Player.all().prefetch_related('team'):\n        print((await p.team).id)\n", set()),
        ("async def f():\n    for t in await Team.all():\n        print(await t.players.all())\n", {(3, "QL135")}),
        ("async def f(rows):\n    for r in rows:\n        await Team.create(**r)\n", {(3, "QL136")}),
        ("async def f(rows):\n    await Team.bulk_create([Team(**r) for r in rows])\n", set()),
        ("async def f(ids):\n    return await Team.filter(id__in=ids)\n", set()),
    ],
)
def test_tortoise_QL135_QL136(body, want):
    header = "from app.models import Player, Team\n"
    result = lint_files({"app/__init__.py": "", "app/models.py": TORTOISE, "app/api.py": header + body}, select=["QL135", "QL136"])
    assert result.errors == []
    assert {(f.span.line - 1, f.variant) for f in result.findings} == want


@pytest.mark.parametrize(
    "body, want",
    [
        ("def row(t):\n    return (t.id, t.user.username)\ndef f():\n    return [row(t) for t in Tweet.select()]\n", {(4, "QL132")}),
        ("def row(t):\n    return (t.id, t.user.username)\ndef f():\n    return [row(t) for t in Tweet.select(Tweet, User).join(User)]\n", set()),
        ("def row(t):\n    return (t.id, t.user_id)\ndef f():\n    return [row(t) for t in Tweet.select()]\n", set()),
    ],
)
def test_peewee_helpers_QL132(body, want):
    assert codes(body, ("QL132",)) == want
