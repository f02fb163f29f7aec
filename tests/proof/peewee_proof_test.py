"""Proof against a real database: the peewee fixtures' code, run on in-memory SQLite.

The fixture's models are bound to a counting ``SqliteDatabase`` subclass (every statement goes
through ``execute_sql``). Each positive code path (a function holding a line querylint flags)
and each negative one (a trap it must not flag) runs with 1 and with 5 seeded items: positives
must send more statements with more items, negatives the same number.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

peewee = pytest.importorskip("peewee")

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "peewee" / "microblog"
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from pw_blog import lookups, models, stats, timeline, timeline_ok  # noqa: E402


class CountingDatabase(peewee.SqliteDatabase):
    def __init__(self):
        super().__init__(":memory:")
        self.statements = 0

    def execute_sql(self, sql, *args, **kwargs):
        self.statements += 1
        return super().execute_sql(sql, *args, **kwargs)


def seed(n):
    users = [models.User.create(username=f"user{i}") for i in range(n)]
    tweets = [models.Tweet.create(user=u, content=f"hello from {u.username}") for u in users]
    for t in tweets:
        models.Like.create(tweet=t, user=users[0])
    return {"names": [u.username for u in users], "ids": [u.id for u in users], "first": users[0].id}


def run(func, n, args):
    db = CountingDatabase()
    db.bind(models.MODELS)
    db.connect()
    try:
        db.create_tables(models.MODELS)
        data = seed(n)
        db.statements = 0
        func(*args(data))
        return db.statements
    finally:
        db.close()
        models.db.bind(models.MODELS)


NONE = lambda d: ()  # noqa: E731
NAMES = lambda d: (d["names"],)  # noqa: E731
IDS = lambda d: (d["ids"],)  # noqa: E731

CASES = [
    (timeline.timeline, "grows", NONE),
    (timeline.tweet_counts, "grows", NONE),
    (timeline.all_tweets_by_user, "grows", NONE),
    (timeline.profiles, "grows", NAMES),
    (timeline.maybe_profiles, "grows", NAMES),
    (timeline.latest_by_user, "grows", NAMES),
    (timeline.contents_by_user, "grows", IDS),
    (timeline.like_counts, "grows", NONE),
    (timeline.post_all, "grows", lambda d: (d["first"], d["names"])),
    (timeline.reward_all, "grows", NONE),
    (timeline.bump_karma, "grows", IDS),
    (timeline.unlike_all, "grows", lambda d: (d["first"],)),
    (timeline.users_by_id, "grows", IDS),
    (timeline_ok.timeline, "flat", NONE),
    (timeline_ok.author_ids, "flat", NONE),
    (timeline_ok.tweet_counts, "flat", NONE),
    (timeline_ok.all_tweets_by_user, "flat", NONE),
    (timeline_ok.profiles, "flat", NAMES),
    (timeline_ok.builtin_users, "flat", NONE),
    (timeline_ok.post_all, "flat", lambda d: (d["first"], d["names"])),
    (timeline_ok.bump_karma, "flat", IDS),
    (timeline_ok.shouts, "flat", NONE),
    (lookups.posters, "grows", IDS),
    (lookups.content_lists, "grows", IDS),
    (lookups.posters_once, "flat", IDS),
    (lookups.unrun_queries, "flat", IDS),
    (lookups.author_names, "flat", NONE),
    (lookups.default_posters, "flat", NONE),
    (lambda first: models.User.get_by_id(first).liked(), "grows", lambda d: (d["first"],)),
    (lambda first: models.User.get_by_id(first).liked_joined(), "flat", lambda d: (d["first"],)),
]


@pytest.mark.parametrize("func, expect, args", CASES, ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}" for f, _, _ in CASES])
def test_peewee_statements(func, expect, args):
    one, five = run(func, 1, args), run(func, 5, args)
    if expect == "grows":
        assert five > one, f"{func.__name__}: {one} statements for 1 item, {five} for 5 (expected growth)"
    else:
        assert five == one, f"{func.__name__}: {one} statements for 1 item, {five} for 5 (expected flat)"


class CountingRows(CountingDatabase):
    """Also counts the rows the cursor hands back (peewee builds a model per row)."""

    def __init__(self):
        super().__init__()
        self.rows = 0

    def execute_sql(self, sql, *args, **kwargs):
        cursor = super().execute_sql(sql, *args, **kwargs)
        if sql.lstrip().upper().startswith("SELECT"):
            rows = cursor.fetchall()
            self.rows += len(rows)
            return _Replay(cursor, rows)
        return cursor


class _Replay:
    def __init__(self, cursor, rows):
        self._cursor, self._rows = cursor, list(rows)
        self.description = cursor.description
        self.lastrowid = cursor.lastrowid
        self.rowcount = cursor.rowcount

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=100):
        out, self._rows = self._rows[:size], self._rows[size:]
        return out

    def fetchall(self):
        out, self._rows = self._rows, []
        return out

    def __iter__(self):
        while self._rows:
            yield self._rows.pop(0)

    def close(self):
        self._cursor.close()


def rows_fetched(func, n, *args):
    db = CountingRows()
    db.bind(models.MODELS)
    db.connect()
    try:
        db.create_tables(models.MODELS)
        user = models.User.create(username="user0")
        for i in range(n):
            models.Tweet.create(user=user, content=f"tweet {i}")
        db.rows = 0
        func(*args)
        return db.rows
    finally:
        db.close()
        models.db.bind(models.MODELS)


def test_peewee_len_fetches_every_row():
    """QL412/QL413: len(query) and list(query)[0] pull every row; .count() and .first() pull one."""
    assert (rows_fetched(stats.tweet_total, 1, "user0"), rows_fetched(stats.tweet_total, 5, "user0")) == (1 + 1, 1 + 5)
    assert (rows_fetched(stats.newest_tweet, 1), rows_fetched(stats.newest_tweet, 5)) == (1, 5)
    assert rows_fetched(stats.tweet_total_ok, 1, "user0") == rows_fetched(stats.tweet_total_ok, 5, "user0") == 1
    assert rows_fetched(stats.newest_tweet_ok, 1) == rows_fetched(stats.newest_tweet_ok, 5) == 1


def test_peewee_bool_and_primary_keys():
    """QL416: `if query:` fetches every row (len()); QL417: whole rows for their ids."""
    assert (rows_fetched(stats.has_tweets, 1, "user0"), rows_fetched(stats.has_tweets, 5, "user0")) == (1, 5)
    assert rows_fetched(stats.has_tweets_ok, 1, "user0") == rows_fetched(stats.has_tweets_ok, 5, "user0") == 1
    assert (rows_fetched(stats.tweet_ids, 1), rows_fetched(stats.tweet_ids, 5)) == (1, 5)
    # the fix fetches the same rows, but one column each: check the SQL instead
    db = CountingRows()
    db.bind(models.MODELS)
    try:
        sql, _ = models.Tweet.select(models.Tweet.id).order_by(models.Tweet.id).tuples().sql()
        assert "content" not in sql and '"id"' in sql
        sql_all, _ = models.Tweet.select().order_by(models.Tweet.id).sql()
        assert "content" in sql_all
    finally:
        models.db.bind(models.MODELS)


def test_proof_fix_selects_the_author_with_the_tweets(tmp_path, monkeypatch):
    """``querylint --fix`` turns ``Tweet.select()`` into ``Tweet.select(Tweet, User).join(User)``
    for the timeline that reads ``t.user`` per tweet: the fixed function sends one statement for
    1 and for 5 tweets."""
    import importlib.util
    import shutil

    from click.testing import CliRunner

    from querylint.cli import main

    project = tmp_path / "blog"
    shutil.copytree(CASE, project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["--no-cache", "--fix", "--select", "QL105", "."])
    path = project / "pw_blog" / "timeline.py"
    assert "Tweet.select(Tweet, User).join(User).order_by(Tweet.id)" in path.read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location("pw_blog.timeline_fixed", path)
    fixed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixed)
    assert run(timeline.timeline, 5, NONE) > run(timeline.timeline, 1, NONE)
    assert run(fixed.timeline, 1, NONE) == run(fixed.timeline, 5, NONE) == 1
