from sqlalchemy.orm import Session

from .models import Bin, Warehouse


def bins_for_codes(session: Session, codes):
    found = []
    for code in codes:
        b = session.query(Bin).filter_by(code=code).first()  # expect[n+1]
        if b is not None:
            found.append(b)
    return found


def warehouse_names(session: Session, ids):
    return [session.get(Warehouse, i).name for i in ids]  # expect[n+1]


def bins_by_warehouse(session: Session):
    return {w.name: [b.code for b in w.bins] for w in session.query(Warehouse).all()}


def bin_labels(session: Session):
    return [f"{b.warehouse.name}/{b.code}" for b in session.query(Bin).all()]  # expect[n+1]


def bins_for_codes_fast(session: Session, codes):
    return session.query(Bin).filter(Bin.code.in_(list(codes))).all()
