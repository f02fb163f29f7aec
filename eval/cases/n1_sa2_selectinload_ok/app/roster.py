from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .models import Member, Team


def _teams_stmt():
    return select(Team).options(selectinload(Team.members)).order_by(Team.name)


def team_sizes(session: Session) -> dict[str, int]:
    return {t.name: len(t.members) for t in session.scalars(_teams_stmt())}


def handles_with_team(session: Session) -> list[str]:
    stmt = select(Member).options(joinedload(Member.team))
    return [f"{m.handle}@{m.team.name}" for m in session.scalars(stmt)]
