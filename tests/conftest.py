"""Shared test fixtures: a real core on a real SQLite file, fake network peers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

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


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'yomikai.db'}"


@pytest.fixture
def db(database_url: str) -> Database:
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
