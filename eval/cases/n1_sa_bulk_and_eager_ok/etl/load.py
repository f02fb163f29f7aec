from sqlalchemy import insert, select
from sqlalchemy.orm import Session, contains_eager

from .models import Region, Store


def load_stores(session: Session, rows):
    session.execute(insert(Store), [{"name": r["name"], "region_id": r["region"]} for r in rows])
    session.commit()


def store_regions(session: Session):
    stmt = select(Store).join(Store.region).options(contains_eager(Store.region))
    return [(s.name, s.region.name) for s in session.scalars(stmt)]


def store_names(session: Session):
    return [name for (name,) in session.execute(select(Store.name))]


def save_all(session: Session, stores):
    for store in stores:
        session.add(store)
    session.flush()
