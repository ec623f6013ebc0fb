"""Shared test fixtures: a real core on a real database, fake network peers on 127.0.0.1.

Tests marked ``both_engines`` run twice: on a SQLite file and on PostgreSQL (a fresh database
per test in the throwaway cluster that ``scripts/with-postgres.sh`` starts for ``make test``).
"""

from __future__ import annotations

import os
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
from storage.db import Database, create_schema
from tests.fakes.chat import FakeChat, ManualClock

if TYPE_CHECKING:
    from tests.fakes.arxiv_server import FakeArxiv

pytest_plugins = ["tests.fakes.arxiv_server", "tests.fakes.trending_servers"]


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
    create_schema(schema.engine)
    schema.dispose()
    yield admin, template
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database (with the schema on PostgreSQL) for one test."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'yomikai.db'}"
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
    create_schema(database.engine)
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
def core(db: Database, arxiv: ArxivSource, clock: ManualClock) -> Yomikai:
    services = Services(catalog=PaperCatalog(db, arxiv), defaults=GroupDefaults())
    return Yomikai(db, services, clock)


@pytest.fixture
def chat(core: Yomikai) -> FakeChat:
    """A channel on the "fake" platform, connected to the core as that platform's adapter."""
    fake = FakeChat(core)
    core.connect(fake)
    return fake
