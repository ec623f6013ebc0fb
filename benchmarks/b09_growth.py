"""How much the database grows: 100,000 votes and 10,000 cards; and the inbox stays bounded.

On SQLite (a file) and PostgreSQL (a fresh database of the cluster named by
``YOMIKAI_TEST_POSTGRES_URL``, as ``scripts/with-postgres.sh`` starts it; without it those rows
are skipped), each migrated with ``storage.migrate.upgrade``:

1. **The setting** (not measured): 100 groups of 30 members, 2,000 closed rounds of 15
   candidates, their sessions and 10,000 slots with papers and threads
   (``benchmarks.archive_seed``).
2. **The inbox over a week** (``benchmarks.inbox_week``): 35,000 requests (5,000 a day)
   through the real ``Yomikai.receive`` while a ``ManualClock`` walks seven days;
   ``received_request`` is measured after the first day (one day's worth, what
   ``inbox.MEMORY`` keeps, nothing forgotten yet) and at the end: a bounded table ends about
   where day one ended. (Recording costs about 0.3 ms a request on these two cores, so
   100,000 would take a minute of this benchmark's ninety seconds by themselves.)
3. **What one click leaves**: 200 real vote clicks through ``Yomikai.receive`` and
   ``click_vote`` on a ballot posted through the fake chat: each must add one vote, one
   recorded request (bounded, step 2) and nothing to ``outbox`` (the adapter redraws), or the
   benchmark fails: then the bulk rows below no longer match what the bot stores.
4. **100,000 votes, then 10,000 cards** in batched transactions (the full command path would
   take about ten minutes): vote rows as ``voting`` inserts them, then a finished card
   (``benchmarks.archive_seed.card_values``) for each slot, through the search index's
   triggers. Size before and after: SQLite's pages after a
   checkpoint, PostgreSQL's ``pg_total_relation_size`` of every table.

Each growth's baseline is the bytes of the values themselves (a vote's four integers and its
time; a card's text and JSON): the ratio is what indexes, row headers and the search index add.
Every count is checked exactly.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, col, select

from benchmarks import inbox_week
from benchmarks.archive_seed import (
    START,
    Archive,
    add_cards,
    insert_rows,
    paper_values,
    seed_groups,
    seed_sessions,
    slots_indexed_after,
    table,
)
from benchmarks.db_size import tables, total
from benchmarks.report import Figure, Result, check
from bot.context import Invocation, Services
from bot.core import Received, Yomikai
from bot.delivery.inbox import MEMORY
from bot.delivery.recorder import PRUNE_EVERY
from bot.group_setup import GroupDefaults
from bot.messages import CandidateList
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Candidate, Card, OutboxPost, Paper, ReceivedRequest, Vote
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.chat import FakeChat, ManualClock

VOTES = 100_000
CARDS = 10_000
REQUESTS = 35_000
DAYS = 7
CLICKS = 200
GROUPS = 100
MEMBERS = 30
ROUNDS_PER_GROUP = 20
SLOTS = CARDS // (GROUPS * ROUNDS_PER_GROUP)
CANDIDATES = 15
VOTERS = 25
"""Members voting in each round, two approvals each: 2,000 rounds × 50 = 100,000 votes."""
BOUND = 1.5
"""``received_request`` after the week against after its first day: at most this."""
ROW_BOUND = (MEMORY + PRUNE_EVERY) / MEMORY
"""Rows kept at most: a day's worth and what arrived since the last hourly ``forget``."""
POSTGRES_URL = "YOMIKAI_TEST_POSTGRES_URL"


@dataclass
class Growth:
    engine: str
    vote_bytes: int = 0
    vote_tables: dict[str, int] | None = None
    card_bytes: int = 0
    card_tables: dict[str, int] | None = None
    card_values: int = 0
    """The bytes of the 10,000 cards' values (UTF-8 text and JSON)."""
    week: inbox_week.Week | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds each step took."""


def count(session: Session, model: type[SQLModel]) -> int:
    return int(session.exec(select(func.count()).select_from(table(model))).one())


def indexed(session: Session, slot_id: int | None = None) -> Any:
    """The search index's rows; with ``slot_id``, the summary it holds for that slot."""
    if slot_id is None:
        return session.execute(text("SELECT count(*) FROM search_index")).scalar_one()
    key = "rowid" if session.get_bind().dialect.name == "sqlite" else "slot_id"
    query = text(f"SELECT summary FROM search_index WHERE {key} = :slot")
    return session.execute(query, {"slot": slot_id}).scalar_one()


def setting(db: Database, rng: random.Random) -> tuple[Archive, dict[int, list[int]]]:
    """Groups, members, rounds with their sessions and slots (indexed for search), and each
    round's candidates."""
    with db.session() as session, slots_indexed_after(session):
        archive = seed_groups(session, rng, GROUPS, MEMBERS, START)
        seed_sessions(
            session, rng, archive, ROUNDS_PER_GROUP, SLOTS, START - timedelta(days=1), cards=False
        )
        pool = [paper_values(rng, archive.paper_count + n, START) for n in range(500)]
        extra = insert_rows(session, Paper, pool)
        rows, owners = [], []
        for rounds in archive.rounds:
            for round_id in rounds:
                papers = archive.round_papers[round_id] + rng.sample(extra, CANDIDATES - SLOTS)
                for number, paper_id in enumerate(papers, 1):
                    rows.append({"round_id": round_id, "number": number, "paper_id": paper_id})
                    owners.append(round_id)
        ids = insert_rows(session, Candidate, rows)
    candidates: dict[int, list[int]] = {}
    for round_id, candidate_id in zip(owners, ids, strict=True):
        candidates.setdefault(round_id, []).append(candidate_id)
    return archive, candidates


async def calibrate(core: Yomikai) -> None:
    """Real clicks on a posted ballot: each leaves one vote and one recorded request, and
    nothing in the outbox (the adapter redraws the ballot itself), else this fails."""
    chat = FakeChat(core, channel="C-calibration")
    core.connect(chat)
    await chat.say("alice", "/yomikai setup")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/nominate 2204.00598")
    await chat.say("alice", "/yomikai open")
    ballots = [s.message for s in chat.announced if isinstance(s.message, CandidateList)]
    check(len(ballots) == 1, "the calibration ballot was not posted")
    ballot = ballots[0]

    def counts(session: Session) -> dict[str, int]:
        clicks = select(func.count()).where(col(ReceivedRequest.key).like("fake:click:%"))
        return {
            "vote": count(session, Vote),
            "outbox": count(session, OutboxPost),
            "received_request": int(session.exec(clicks).one()),
        }

    before = await core.unit.in_thread(counts)
    for n in range(CLICKS):
        candidate = ballot.candidates[n % len(ballot.candidates)].candidate_id
        inv = Invocation("fake", chat.channel, f"U-voter{n}", f"voter {n}", "vote")
        key = f"fake:click:{n}"
        ids = {"round_id": ballot.round_id, "candidate_id": candidate}
        received = await core.receive(key, "vote", inv, {"channel_id": chat.channel}, **ids)
        check(received is Received.NEW, f"click {n} was not recorded")
        reply = await core.click_vote(replace(inv, request_key=key), ballot.round_id, candidate)
        check(not reply.public and len(reply.private) == 1, f"click {n} answered {reply}")
    after = await core.unit.in_thread(counts)
    made = {name: after[name] - before[name] for name in after}
    expected = {"vote": CLICKS, "outbox": 0, "received_request": CLICKS}
    check(made == expected, f"{CLICKS} clicks left {made} rows, not {expected}: update this")


def vote_rows(archive: Archive, candidates: dict[int, list[int]]) -> list[dict[str, Any]]:
    """Votes as ``voting`` inserts them: ``VOTERS`` members × 2 approvals in every round."""
    votes: list[dict[str, Any]] = []
    for g, rounds in enumerate(archive.rounds):
        for r, round_id in enumerate(rounds):
            opened = START - timedelta(weeks=ROUNDS_PER_GROUP - r, days=6)
            for m in range(VOTERS):
                for pick in (m % CANDIDATES, (m + 7) % CANDIDATES):
                    votes.append(
                        {
                            "round_id": round_id,
                            "candidate_id": candidates[round_id][pick],
                            "member_id": archive.members[g][m][0],
                            "created_at": opened + timedelta(minutes=len(votes) % 5000),
                        }
                    )
    return votes


def value_bytes(row: dict[str, Any]) -> int:
    """The bytes of a row's values: text as UTF-8, numbers 8, times 8, JSON as its text."""
    size = 0
    for value in row.values():
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, list | dict):
            size += len(json.dumps(value, ensure_ascii=False).encode())
        elif value is not None:
            size += 8
    return size


async def measure(url: str, engine: str, arxiv_url: str) -> Growth:
    started = time.monotonic()
    growth = Growth(engine)
    db = Database(url)
    try:
        upgrade(db.engine)
        rng = random.Random(9)
        mark = time.monotonic()

        def lap(name: str) -> None:
            nonlocal mark
            growth.phases[name] = time.monotonic() - mark
            mark = time.monotonic()

        archive, candidates = setting(db, rng)
        with db.session() as session:
            check(indexed(session) == CARDS, "the slots were not indexed for search")
        lap("setting")
        clock = ManualClock(START)
        arxiv = ArxivSource(arxiv_url, delay_seconds=0)
        services = Services(PaperCatalog(db, arxiv), GroupDefaults())
        week_core = Yomikai(db, services, clock)
        growth.week = await inbox_week.week(week_core, clock, "C-inbox", REQUESTS, DAYS)
        lap("inbox week")
        await calibrate(Yomikai(db, services, clock))
        await arxiv.aclose()
        lap("clicks")

        before, before_tables = total(db), tables(db)
        with db.session() as session:
            votes_before = count(session, Vote)
        votes = vote_rows(archive, candidates)
        check(len(votes) == VOTES, f"{len(votes)} votes made, not {VOTES}")
        with db.session() as session:
            insert_rows(session, Vote, votes)
        voted, voted_tables = total(db), tables(db)
        with db.session() as session:
            check(count(session, Vote) == votes_before + VOTES, "votes not stored once each")
        lap("votes")
        growth.vote_bytes = voted - before
        growth.vote_tables = {t: voted_tables[t] - before_tables.get(t, 0) for t in voted_tables}

        with db.session() as session:
            check(count(session, Card) == 0, "cards before the cards")
            ids = add_cards(session, rng, archive.card_slots, START)
        check(len(ids) == CARDS, f"{len(ids)} cards made, not {CARDS}")
        carded, carded_tables = total(db), tables(db)
        with db.session() as session:
            check(count(session, Card) == CARDS, "cards not stored once each")
            check(indexed(session) == CARDS, "search index rows not one per slot")
            card = session.exec(select(Card).order_by(col(Card.id).desc())).first()
            assert card is not None
            check(indexed(session, card.slot_id) == card.summary, "a card's text is not indexed")
            growth.card_values = sum(
                value_bytes(card.model_dump(exclude={"id"})) for card in session.exec(select(Card))
            )
        lap("cards")
        growth.card_bytes = carded - voted
        growth.card_tables = {t: carded_tables[t] - voted_tables.get(t, 0) for t in carded_tables}
    finally:
        db.dispose()
    growth.seconds = time.monotonic() - started
    return growth


@contextmanager
def fresh_postgres(server: str) -> Iterator[str]:
    """A new database on the cluster, dropped afterwards."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"yomikai_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def kib(size: float) -> str:
    if size >= 10 * 2**20:
        return f"{size / 2**20:,.1f} MiB"
    return f"{size / 1024:,.0f} KiB" if size >= 10 * 1024 else f"{size:,.0f} B"


def figures(result: Result, growth: Growth) -> None:
    engine = growth.engine
    assert growth.vote_tables is not None and growth.card_tables is not None
    assert growth.week is not None
    raw_vote = value_bytes({"r": 1, "c": 1, "m": 1, "id": 1, "at": START})
    result.add(
        Figure(
            f"{engine}: bytes per vote (row and indexes)",
            f"{growth.vote_bytes / VOTES:,.0f} B",
            f"the vote's values: {raw_vote} B",
            ratio=growth.vote_bytes / VOTES / raw_vote,
            target="reported",
            runs=VOTES,
        )
    )
    card_row = growth.card_tables.get("card", 0) / CARDS
    index = growth.card_tables.get("search_index", 0) / CARDS
    result.add(
        Figure(
            f"{engine}: bytes per card (its row + the search index)",
            f"{kib(growth.card_bytes / CARDS)} ({kib(card_row)} + {kib(index)})",
            f"the card's values: {kib(growth.card_values / CARDS)}",
            ratio=growth.card_bytes / growth.card_values,
            target="reported",
            runs=CARDS,
        )
    )
    week = growth.week
    per_day = REQUESTS / DAYS
    rows_ok = week.rows <= per_day * ROW_BOUND + inbox_week.AT_ONCE
    ratio = week.end_bytes / week.day_bytes
    result.add(
        Figure(
            f"{engine}: received_request after {DAYS} days of {REQUESTS:,} requests",
            f"{week.rows:,} rows, {kib(week.end_bytes)}",
            f"after day 1 (one day's worth): {week.day_rows:,} rows, {kib(week.day_bytes)}",
            ratio=ratio,
            limit=BOUND,
            target=f"≤ {BOUND:g}×, rows ≤ {per_day * ROW_BOUND:,.0f}",
            runs=REQUESTS,
            met=rows_ok and ratio <= BOUND,
        )
    )
    days = " → ".join(kib(size) for size in week.daily_bytes)
    result.note(
        f"{engine}: received_request at each day's end {days};"
        f" {engine} took {growth.seconds:.0f} s ("
        + ", ".join(f"{name} {took:.0f} s" for name, took in growth.phases.items())
        + ")"
    )


async def run() -> Result:
    result = Result(9, "database growth")
    server = os.environ.get(POSTGRES_URL)
    with serve_fake_arxiv() as fake, tempfile.TemporaryDirectory() as folder:
        grown = [await measure(f"sqlite:///{Path(folder) / 'growth.db'}", "SQLite", fake.url)]
        if server:
            with fresh_postgres(server) as url:
                grown.append(await measure(url, "PostgreSQL", fake.url))
    for growth in grown:
        check(growth.week is not None, "no week")
        assert growth.week is not None
        check(
            growth.week.rows == growth.week.expected,
            f"received_request holds {growth.week.rows} rows, not {growth.week.expected}",
        )
        figures(result, growth)
    if not server:
        result.add(Figure("PostgreSQL: votes, cards, received_request", "skipped", met=None))
        result.note(
            f"PostgreSQL skipped: {POSTGRES_URL} is not set"
            " (run scripts/with-postgres.sh .venv/bin/python -m benchmarks 9)"
        )
    return result
