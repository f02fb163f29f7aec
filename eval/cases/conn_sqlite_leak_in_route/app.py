import sqlite3

from flask import Flask, jsonify

app = Flask(__name__)
DB_PATH = "notes.db"


@app.get("/notes/<int:note_id>")
def note(note_id):
    conn = sqlite3.connect(DB_PATH)  # expect[conn]
    row = conn.execute("SELECT id, body FROM notes WHERE id = ?", (note_id,)).fetchone()
    return jsonify({"id": row[0], "body": row[1]} if row else {})
