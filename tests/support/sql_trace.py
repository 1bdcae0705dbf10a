"""The SQL statements a connection runs while a block runs (sqlite3 trace callback)."""

from contextlib import contextmanager


@contextmanager
def traced_statements(db):
    """Yield the list that fills with every statement ``db``'s connection runs in the block."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        db.conn.set_trace_callback(None)
