from .repositories import CustomerRepository


class InviteService:
    def __init__(self, repo: CustomerRepository | None = None) -> None:
        self.repo = repo or CustomerRepository()

    def known(self, emails: list[str]) -> list[str]:
        known = []
        for email in emails:
            if self.repo.by_email(email) is not None:  # expect[n+1]
                known.append(email)
        return known

    def one(self, email: str) -> bool:
        return self.repo.by_email(email) is not None
