"""Migrations: the only way the schema is made; they agree with the models and keep the rows."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel, select

from storage.db import Database
from storage.migrate import at_newest, config, current, head, newest, upgrade
from storage.models import JobRun, OutboxPost
from storage.search import include_name
from tests.fakes.chat import FakeChat

pytestmark = pytest.mark.both_engines

TABLES = ["member", "nomination", "paper", "reading_group", "round", "session", "slot", "vote"]


def empty_database(database_url: str) -> Database:
    """The test's database without its schema (the fixture hands it out already migrated)."""
    db = Database(database_url)
    with db.engine.begin() as connection:
        for table in [*reversed(SQLModel.metadata.sorted_tables)]:
            connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        connection.execute(text("DROP TABLE IF EXISTS search_index"))  # (migration 0007's)
        if connection.dialect.name == "postgresql":
            for function in ("refresh", "on_slot", "on_card", "on_paper"):
                connection.execute(text(f"DROP FUNCTION IF EXISTS search_index_{function}"))
    return db


def test_a_database_at_the_newest_migration_is_left_alone(db: Database) -> None:
    assert newest() == head()  # the file names say what Alembic says
    assert at_newest(db.engine)
    with db.engine.begin() as connection:  # an older database is brought up to date
        connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    assert not at_newest(db.engine)


def test_the_models_and_the_newest_migration_agree(db: Database) -> None:
    assert current(db.engine) == head()
    with db.engine.connect() as connection:
        options = {"compare_type": True, "include_name": include_name}  # (as env.py does)
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrations_make_every_table(database_url: str) -> None:
    db = empty_database(database_url)
    upgrade(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    search = {"search_index"}  # the archive's index, made by migration 0007, no model
    if db.engine.dialect.name == "sqlite":  # an FTS5 table and its shadow tables
        search |= {
            f"search_index_{part}" for part in ("data", "idx", "content", "docsize", "config")
        }
    models = {t.name for t in SQLModel.metadata.sorted_tables}
    assert models | {"alembic_version"} | search == tables
    db.dispose()


async def test_upgrading_from_the_first_migration_keeps_the_rows(
    db: Database, chat: FakeChat
) -> None:
    """A week stored, the schema taken back to the first revision (as an old Yomikai left it,
    with a scheduled job's claim in the outbox as it was kept then), and upgraded again."""
    await chat.say("alice", "/yomikai setup papers 1")
    await chat.say("alice", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    await chat.say("bob", "/vote 1")
    await chat.say("alice", "/yomikai close")

    def counts() -> dict[str, int]:
        with db.engine.connect() as connection:
            return {
                t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in TABLES
            }

    before = counts()
    assert all(before.values()), before
    claim = "1:open:2026-11-30T01:00Z"
    with db.engine.begin() as connection:
        command.downgrade(config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO outbox (group_id, key, created_at)"
                " SELECT group_id, :key, created_at FROM outbox LIMIT 1"
            ),
            {"key": claim},
        )
        command.downgrade(config(connection), "0001")
    assert current(db.engine) == "0001" and counts() == before
    upgrade(db.engine)
    assert current(db.engine) == head() != "0001"
    assert counts() == before
    with db.session() as session:  # the old claim is a job run now; the ballot stays sent
        assert [run.key for run in session.exec(select(JobRun))] == [claim]
        posts = session.exec(select(OutboxPost)).all()
        assert claim not in {post.key for post in posts}
        assert {post.state for post in posts} == {"sent"}
    said = await chat.text("bob", "/summary 1")
    assert "Planting Undetectable Backdoors" in said


def _upgrade(url: str) -> None:
    database = Database(url)
    upgrade(database.engine)
    database.dispose()


def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    empty_database(database_url).dispose()
    context = multiprocessing.get_context("spawn")
    starting = [context.Process(target=_upgrade, args=(database_url,)) for _ in range(3)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(60)
        assert process.exitcode == 0
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (head(),)
        ]
    engine.dispose()


def test_yomikai_db_upgrade(database_url: str, tmp_path: Path) -> None:
    empty_database(database_url).dispose()
    env = {**os.environ, "YOMIKAI_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"revision {head()}" in done.stderr


async def test_yomikai_db_export_and_import(
    chat: FakeChat, database_url: str, tmp_path: Path
) -> None:
    """Back up a group's state with the command line and restore it into a new SQLite file."""
    await chat.say("alice", "/yomikai setup language ja")
    await chat.say("alice", "/nominate 2204.06974 とても良い論文")

    def yomikai(url: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "YOMIKAI_DATABASE_URL": url}
        command = [sys.executable, "-m", "adapters.cli", "db", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    saved = yomikai(database_url, "export", str(tmp_path / "backup.json"))
    assert saved.returncode == 0, saved.stderr
    assert "Exported" in saved.stderr
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = yomikai(restored_url, "import", str(tmp_path / "backup.json"))
    assert restored.returncode == 0, restored.stderr
    again = yomikai(restored_url, "import", str(tmp_path / "backup.json"))
    assert again.returncode == 2 and "not empty" in again.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{}", encoding="utf-8")
    refused = yomikai(f"sqlite:///{tmp_path / 'other.db'}", "import", str(garbage))
    assert refused.returncode == 2 and "not a Yomikai backup" in refused.stderr
    with Database(restored_url).session() as session:
        reasons = session.execute(text("SELECT reason FROM nomination")).scalars().all()
    assert reasons == ["とても良い論文"]
