from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Member, Team


def first_member(db: Session, team_id: int) -> Member:
    return db.query(Member).filter(Member.team_id == team_id).all()[0]  # expect[orm]


def newest_team(db: Session) -> Team | None:
    return db.scalars(select(Team).order_by(Team.id.desc()).limit(1)).first()
