from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Member, Team


class RosterService:
    def __init__(self, session: Session) -> None:
        self._session = session

    def team_sizes(self) -> dict[str, int]:
        teams = self._session.scalars(select(Team).order_by(Team.name)).all()
        return {team.name: len(team.members) for team in teams}  # expect[n+1]

    def handles_with_team(self) -> list[str]:
        result = []
        for member in self._session.execute(select(Member)).scalars():
            result.append(f"{member.handle}@{member.team.name}")  # expect[n+1]
        return result
