from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from .db import get_session

app = FastAPI()
DB = Annotated[Session, Depends(get_session)]


@app.get("/health")
def health(session: DB):
    return {"ok": session.execute(text("SELECT 1")).scalar_one() == 1}


@app.get("/users/{user_id}")
def user(user_id: int, session: Session = Depends(get_session)):
    row = session.execute(text("SELECT id, email FROM users WHERE id = :id"), {"id": user_id}).first()
    return dict(row._mapping) if row else {}
