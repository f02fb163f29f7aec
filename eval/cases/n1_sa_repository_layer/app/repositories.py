from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .models import Member, Team


class TeamRepo:
    def __init__(self, session: Session) -> None:
        self._s = session

    def by_id(self, team_id: int) -> Team | None:
        return self._s.get(Team, team_id)

    def listing(self) -> list[Team]:
        return list(self._s.scalars(select(Team).order_by(Team.name)))

    def listing_full(self) -> list[Team]:
        return list(self._s.scalars(select(Team).options(selectinload(Team.members))))

    def handles(self) -> list[str]:
        return list(self._s.scalars(select(Member.handle)))
