"""Shared test fixtures: a real core on a real database, fake network peers on 127.0.0.1.

Tests marked ``both_engines`` run twice: on a SQLite file and on PostgreSQL (a fresh database
per test in the throwaway cluster that ``scripts/with-postgres.sh`` starts for ``make test``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from tests.fakes.chat import FakeChat, ManualClock

if TYPE_CHECKING:
    from tests.fakes.arxiv_server import FakeArxiv

pytest_plugins = [
    "tests.fakes.arxiv_server",
    "tests.fakes.trending_servers",
    "tests.fakes.slack_api",
    "tests.fakes.paper_sites",
    "tests.fakes.model_server",
    "tests.reliability_report",
]


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_engines") and "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES)


@pytest.fixture
def engine() -> str:
    """The database engine under test: SQLite unless the test is marked ``both_engines``."""
    return "sqlite"


def _database(server: str | URL, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[Engine, str]]:
    """An admin connection to the test cluster and a template database holding the schema."""
    server = os.environ.get("YOMIKAI_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("no PostgreSQL: run the suite with make test (scripts/with-postgres.sh)")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    template = f"yomikai_template_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    schema = Database(_database(server, template))
    upgrade(schema.engine)
    schema.dispose()
    yield admin, template
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "yomikai.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name("yomikai.db-wal").exists()
    return path


@pytest.fixture
def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database holding the migrated schema and no rows, for one test."""
    if engine == "sqlite":
        path = tmp_path / "yomikai.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin, template = request.getfixturevalue("postgres_template")
    name = f"yomikai_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _database(admin.url, name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def arxiv(fake_arxiv: FakeArxiv) -> AsyncIterator[ArxivSource]:
    source = ArxivSource(fake_arxiv.url, delay_seconds=0.0, timeout_seconds=1.0, num_retries=0)
    yield source
    await source.aclose()


@pytest.fixture
async def core(db: Database, arxiv: ArxivSource, clock: ManualClock) -> AsyncIterator[Yomikai]:
    services = Services(catalog=PaperCatalog(db, arxiv), defaults=GroupDefaults())
    made = Yomikai(db, services, clock)
    yield made
    if made.services.drafter is not None:  # (a test gave it one: tests/fakes/drafting.py)
        await made.services.drafter.aclose()


@pytest.fixture
def chat(core: Yomikai) -> FakeChat:
    """A channel on the "fake" platform, connected to the core as that platform's adapter."""
    fake = FakeChat(core)
    core.connect(fake)
    return fake


@pytest.fixture
async def two_rounds(chat: FakeChat) -> FakeChat:
    """A session of two slots (alice, the organizer, and bob present; carol is known) and a
    second round open with two candidates."""
    await chat.say("alice", "/yomikai setup papers 2")
    await chat.say("alice", "/yomikai join")
    await chat.say("bob", "/yomikai join")
    await chat.say("carol", "/yomikai leave")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/nominate 2204.00598")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    await chat.say("alice", "/nominate 2203.14465")
    await chat.say("alice", "/nominate 2203.15556")
    await chat.say("alice", "/yomikai open")
    return chat
