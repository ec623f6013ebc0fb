"""Schema migrations (Alembic, ``storage/migrations``): the only way the schema is made or changed.

``upgrade`` runs under a lock, so replicas starting together migrate once: on PostgreSQL an
advisory lock held for the migration's transaction, on SQLite the write lock that every
transaction here takes (``BEGIN IMMEDIATE``). A database already at the newest migration is
left alone without loading Alembic at all (it and what it imports weigh about 11 MiB in a
process that otherwise never needs them: ``make bench``, benchmark 8).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_KEY = 0x59_4F_4D_49  # "YOMI": the PostgreSQL advisory lock that serializes migrations


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def newest() -> str:
    """The newest migration's revision, from the file names (``0007_search_index.py``)."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def at_newest(engine: Engine) -> bool:
    """Whether the database is already at the newest migration (read without Alembic)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return list(found) == [newest()]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest), once across processes."""
    if revision == "head" and at_newest(engine):
        return
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        command.upgrade(config(connection), revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def revision(message: str, database_url: str = "sqlite:///migration-draft.db") -> None:
    """Draft the next migration from the models' changes (review the file before committing).

    The draft is compared against a scratch database brought to the newest migration.
    """
    from alembic import command

    from storage.db import make_engine

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as connection:
        number = f"{int(head() or '0') + 1:04d}"
        command.revision(config(connection), message=message, autogenerate=True, rev_id=number)
    engine.dispose()
