from sqlalchemy import text


def purge_status(engine, status):
    stmt = text("DELETE FROM jobs WHERE status = '%s'" % status)  # expect[sql]
    with engine.begin() as conn:
        conn.execute(stmt)


def purge_status_safe(engine, status):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM jobs WHERE status = :status"), {"status": status})
