from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .models import Company, Contact


def contact_rows(session: Session):
    contacts = session.execute(select(Contact).order_by(Contact.id)).scalars().all()
    return [(c.email, c.company.name) for c in contacts]  # expect[n+1]


def company_sizes(session: Session):
    stmt = select(Company).options(selectinload(Company.contacts))
    return {co.name: len(co.contacts) for co in session.scalars(stmt)}


def company_sizes_slow(session: Session):
    sizes = {}
    for co in session.scalars(select(Company)):
        sizes[co.name] = len(co.contacts)  # expect[n+1]
    return sizes


def contact_pairs(session: Session):
    rows = session.execute(select(Contact.email, Contact.company_id)).all()
    return [(r.email, r.company_id) for r in rows]
