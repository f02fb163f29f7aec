from .models import Bin


def bin_count(session, warehouse_id):
    return len(session.query(Bin).filter(Bin.warehouse_id == warehouse_id).all())  # expect[orm]


def bin_codes(session, warehouse_id):
    bins = session.query(Bin).filter(Bin.warehouse_id == warehouse_id).all()
    return len(bins), [b.code for b in bins]
