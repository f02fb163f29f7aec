from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Member, Team


def members_per_team(session: Session) -> Counter:
    counts: Counter = Counter()
    for member in session.scalars(select(Member)):
        counts[member.team_id] += 1
    return counts


def members_per_team_sql(session: Session):
    stmt = select(Team.name, func.count(Member.id)).join(Member).group_by(Team.name)
    return {name: n for name, n in session.execute(stmt)}
