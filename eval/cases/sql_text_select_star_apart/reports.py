from sqlalchemy import text

RECENT = text("SELECT * FROM audit_log WHERE created_at > now() - interval '1 day'")  # one table: medium (QL301)


def recent_entries(session):
    return session.execute(RECENT).all()


def entry(session, entry_id):
    stmt = text("SELECT id, action FROM audit_log WHERE id = :id")
    return session.execute(stmt, {"id": entry_id}).first()
