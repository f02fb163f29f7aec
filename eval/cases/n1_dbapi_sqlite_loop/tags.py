import sqlite3


def tag_counts(db_path, tags):
    conn = sqlite3.connect(db_path)
    try:
        counts = {}
        for tag in tags:
            row = conn.execute("SELECT count(*) FROM post_tags WHERE tag = ?", (tag,)).fetchone()  # expect[n+1]
            counts[tag] = row[0]
        return counts
    finally:
        conn.close()


def save_tags(db_path, post_id, tags):
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executemany("INSERT INTO post_tags (post_id, tag) VALUES (?, ?)", [(post_id, t) for t in tags])
    conn.close()
