from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from .deps import get_db

app = FastAPI()


@app.get("/notes/{note_id}")
def read_note(note_id: int, db: Session = Depends(get_db)):
    row = db.execute(text("SELECT id, body FROM notes WHERE id = :id"), {"id": note_id}).first()
    return {"id": row.id, "body": row.body} if row else None
