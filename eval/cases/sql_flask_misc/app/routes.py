import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)


def db():
    if "db" not in g:
        g.db = sqlite3.connect("app.db")
    return g.db


@app.get("/products")
def products():
    rows = db().execute("SELECT * FROM products WHERE active = 1 LIMIT 100").fetchall()  # one table: medium (QL301)
    return jsonify(rows)


@app.get("/products/search")
def search():
    term = request.args["q"]
    rows = db().execute("SELECT id, name FROM products WHERE name LIKE ?", (f"%{term}%",)).fetchall()  # expect[sql]
    return jsonify(rows)


@app.get("/products/exists")
def exists():
    sku = request.args["sku"]
    row = db().execute("SELECT EXISTS (SELECT * FROM products WHERE sku = ?)", (sku,)).fetchone()
    return jsonify({"exists": bool(row[0]), "total": db().execute("SELECT COUNT(*) FROM products").fetchone()[0]})


@app.post("/products/<int:pid>/archive")
def archive(pid):
    db().execute("UPDATE products SET active = 0")  # expect[sql]
    db().commit()
    return "", 204
