import sqlite3

from flask import Flask, g, jsonify

app = Flask(__name__)


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect("app.db")
    return g.db


@app.teardown_appcontext
def close_db(exc):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.get("/countries")
def countries():
    rows = get_db().execute("SELECT code, name FROM countries").fetchall()  # expect[sql]
    return jsonify(rows)


@app.get("/stats")
def stats():
    (n,) = get_db().execute("SELECT COUNT(*) FROM users").fetchone()
    return jsonify({"users": n})


@app.get("/now")
def now():
    (ts,) = get_db().execute("SELECT CURRENT_TIMESTAMP").fetchone()
    return jsonify({"now": ts})
