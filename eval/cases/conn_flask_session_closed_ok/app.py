from flask import Flask, jsonify
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from models import Note

app = Flask(__name__)
engine = create_engine("postgresql+psycopg://app@db/notes", pool_size=10)


@app.get("/notes/<int:note_id>")
def note(note_id):
    with Session(engine) as session:
        n = session.get(Note, note_id)
        return jsonify({"id": n.id, "text": n.text} if n else {})


@app.get("/notes")
def notes():
    with Session(engine) as session:
        rows = session.scalars(select(Note).order_by(Note.id.desc()).limit(50)).all()
        return jsonify([{"id": n.id, "text": n.text} for n in rows])
