"""Storage: aware datetimes, SQLite tuning, and the idempotent insert that decides who acts."""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import select

from bot.context import Services
from bot.core import Received, Yomikai
from bot.group_setup import GroupDefaults
from bot.messages import CandidateList
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.models import Group, OutboxPost, Vote
from storage.queries import insert_ignore
from tests.fakes.chat import FakeChat, ManualClock

pytestmark = pytest.mark.both_engines

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db: Database, engine: str) -> None:
    if engine != "sqlite":
        pytest.skip("SQLite settings")
    with db.session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_datetimes_come_back_aware_and_equal(db: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    with db.session() as session:
        session.add(Group(platform="p", channel_id="c", created_at=NOW.astimezone(tokyo)))
    with db.session() as session:
        group = session.exec(select(Group)).one()
    assert group.created_at.tzinfo is not None
    assert group.created_at == NOW


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.session() as session:
        session.add(Group(platform="p", channel_id="c", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_insert_ignore_returns_the_id_once(db: Database) -> None:
    with db.session() as session:
        session.add(Group(platform="p", channel_id="c", created_at=NOW))
    values = {"group_id": 1, "key": "1:open:2026-W49", "created_at": NOW}
    with db.session() as session:
        first = insert_ignore(session, OutboxPost, values, ("key",))
        second = insert_ignore(session, OutboxPost, values, ("key",))
    assert first is not None and second is None


def _claim(url: str, keys: list[str], queue: multiprocessing.Queue) -> None:
    database = Database(url)
    won = []
    for key in keys:
        with database.session() as session:
            values = {"group_id": 1, "key": key, "created_at": NOW}
            if insert_ignore(session, OutboxPost, values, ("key",)) is not None:
                won.append(key)
    database.dispose()
    queue.put(won)


def test_processes_racing_for_the_same_posts_each_win_once(database_url: str) -> None:
    """Four real processes claim the same 40 outbox keys on one SQLite file."""
    database = Database(database_url)
    with database.session() as session:
        session.add(Group(platform="p", channel_id="c", created_at=NOW))
    database.dispose()
    keys = [f"1:remind:{n}" for n in range(40)]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_claim, args=(database_url, keys, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    won = [key for _ in workers for key in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(won) == sorted(keys)


async def test_fifty_members_voting_at_once_are_all_counted(chat: FakeChat, db: Database) -> None:
    await chat.say("alice", "/yomikai setup")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    users = [f"member{n}" for n in range(50)]
    replies = await asyncio.gather(*(chat.say(user, "/vote 1") for user in users))
    assert all("counts" in r.private[0].text for r in replies)
    (ballot,) = chat.only(await chat.say("alice", "/candidates"), CandidateList)
    assert ballot.candidates[0].votes == 50
    with db.session() as session:
        assert len(session.exec(select(Vote)).all()) == 50


async def test_a_resent_request_is_recognised_by_every_core(
    chat: FakeChat, db: Database, clock: ManualClock, arxiv: ArxivSource
) -> None:
    """Two bot processes share one database: a platform's retry reaching the other is a repeat."""
    twin = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), clock)
    assert await chat.core.receive("slack:command:1.2.3:") is Received.NEW
    assert await twin.receive("slack:command:1.2.3:") is Received.REPEAT
    assert await twin.receive("slack:command:1.2.4:") is Received.NEW
    clock.advance(days=2)  # remembered for a day, then forgotten
    assert await chat.core.receive("slack:command:1.2.9:") is Received.NEW
    assert await twin.receive("slack:command:1.2.3:") is Received.NEW
