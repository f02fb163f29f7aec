from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from .models import Member, Team


def teams_with_members(session: Session):
    stmt = select(Team).join(Team.members).options(contains_eager(Team.members))
    teams = session.scalars(stmt).unique().all()
    return {t.name: [m.handle for m in t.members] for t in teams}


def member_team_ids(session: Session):
    return [m.team_id for m in session.scalars(select(Member).limit(500))]
