"""How big a database is, and each table with its indexes, on SQLite and PostgreSQL.

SQLite: the file's pages (``page_count × page_size``) after the write-ahead log is checkpointed
into it, and each table's pages (its own, its indexes' and, for the FTS5 search index, its
shadow tables') from the ``dbstat`` table. PostgreSQL: ``pg_total_relation_size`` of each table
(heap, indexes, TOAST), summed for the whole.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import text

from benchmarks.archive_seed import outside_transaction
from storage.db import Database

FTS = "search_index"


def is_sqlite(db: Database) -> bool:
    return db.engine.dialect.name == "sqlite"


def checkpoint(db: Database) -> None:
    if is_sqlite(db):
        outside_transaction(db, "PRAGMA wal_checkpoint(TRUNCATE)")


def total(db: Database) -> int:
    """The database's bytes: the SQLite file's pages, or PostgreSQL's tables summed."""
    if is_sqlite(db):
        checkpoint(db)
        (pages,) = outside_transaction(db, "PRAGMA page_count")[0]
        (size,) = outside_transaction(db, "PRAGMA page_size")[0]
        return int(pages) * int(size)
    return sum(tables(db).values())


def tables(db: Database) -> dict[str, int]:
    """Table → bytes, with its indexes (and TOAST, or FTS5 shadow tables)."""
    if is_sqlite(db):
        checkpoint(db)
        owner = dict(outside_transaction(db, "SELECT name, tbl_name FROM sqlite_master"))
        rows = outside_transaction(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
        found: dict[str, int] = defaultdict(int)
        for name, size in rows:
            table = FTS if str(name).startswith(FTS) else str(owner.get(name, name))
            found[table] += int(size)
        return dict(found)
    with db.engine.connect() as connection:
        found_pg = connection.execute(
            text(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).all()
    return {str(name): int(size) for name, size in found_pg}


def table_size(db: Database, table: str) -> int:
    """One table's bytes with its indexes (SQLite reads only its pages)."""
    if not is_sqlite(db):
        return tables(db)[table]
    checkpoint(db)
    names = "SELECT name FROM sqlite_master WHERE tbl_name = '" + table.replace("'", "") + "'"
    query = f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({names})"
    return int(outside_transaction(db, query)[0][0] or 0)


def vacuum(db: Database, table: str) -> None:
    """PostgreSQL: make a table's dead rows' space reusable (what autovacuum does in time)."""
    if not is_sqlite(db):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'VACUUM "{table}"'))
