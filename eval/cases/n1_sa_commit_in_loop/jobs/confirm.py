from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import Subscriber


def confirm_all(session: Session, emails):
    for sub in session.scalars(select(Subscriber).where(Subscriber.email.in_(emails))):
        sub.confirmed = True
        session.commit()  # expect[n+1]


def confirm_all_fast(session: Session, emails):
    session.execute(update(Subscriber).where(Subscriber.email.in_(emails)).values(confirmed=True))
    session.commit()


def import_subscribers(session: Session, emails):
    for email in emails:
        session.add(Subscriber(email=email))
    session.commit()
