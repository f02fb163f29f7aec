from typing import Optional

from .repositories import TeamRepo


class TeamDirectory:
    def __init__(self, repo: Optional[TeamRepo] = None, session=None) -> None:
        self.repo = repo or TeamRepo(session)

    def names_for(self, ids: list[int]) -> list[str]:
        out = []
        for team_id in ids:
            team = self.repo.by_id(team_id)  # expect[n+1]
            if team is not None:
                out.append(team.name)
        return out

    def roster(self) -> dict[str, list[str]]:
        return {t.name: [m.handle for m in t.members] for t in self.repo.listing()}  # expect[n+1]

    def roster_fast(self) -> dict[str, list[str]]:
        return {t.name: [m.handle for m in t.members] for t in self.repo.listing_full()}

    def all_handles(self) -> list[str]:
        return sorted(h.lower() for h in self.repo.handles())
