from sqlalchemy.orm import subqueryload

from .models import Bin, Warehouse


def bins_per_city(session):
    result = {}
    for wh in session.query(Warehouse).order_by(Warehouse.city):
        result[wh.city] = [b.code for b in wh.bins]  # expect[n+1]
    return result


def bins_per_city_eager(session):
    q = session.query(Warehouse).options(subqueryload(Warehouse.bins))
    return {wh.city: [b.code for b in wh.bins] for wh in q}


def bin_lookup(session, codes):
    return [session.query(Bin).filter_by(code=c).one() for c in codes]  # expect[n+1]
