from sqlalchemy.orm import Session

from .models import Member, Team


def import_members(session: Session, team_name: str, handles: list[str]) -> Team:
    team = Team(name=team_name)
    session.add(team)
    for handle in handles:
        session.add(Member(handle=handle, team=team))
    session.commit()
    return team


def import_bulk(session: Session, rows: list[dict]) -> None:
    session.add_all([Member(**row) for row in rows])
    session.flush()
    session.commit()
