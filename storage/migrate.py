"""Schema migrations (Alembic, ``storage/migrations``): the only way the schema is made or changed.

``upgrade`` runs under a lock, so replicas starting together migrate once: on PostgreSQL an
advisory lock held for the migration's transaction, on SQLite the write lock that every
transaction here takes (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_KEY = 0x59_4F_4D_49  # "YOMI": the PostgreSQL advisory lock that serializes migrations


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest), once across processes."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        command.upgrade(config(connection), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def revision(message: str, database_url: str = "sqlite:///migration-draft.db") -> None:
    """Draft the next migration from the models' changes (review the file before committing).

    The draft is compared against a scratch database brought to the newest migration.
    """
    from storage.db import make_engine

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as connection:
        number = f"{int(head() or '0') + 1:04d}"
        command.revision(config(connection), message=message, autogenerate=True, rev_id=number)
    engine.dispose()
