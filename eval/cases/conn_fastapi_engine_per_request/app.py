import os

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///./app.db")
engine = create_engine(DATABASE_URL, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine)
app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/health/db")
def db_health():
    eng = create_engine(DATABASE_URL)  # expect[conn]
    with eng.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True}


@app.get("/users/{user_id}")
def read_user(user_id: int, db: Session = Depends(get_db)):
    row = db.execute(text("SELECT id, email FROM users WHERE id = :id"), {"id": user_id}).first()
    return {"id": row.id, "email": row.email} if row else {}
