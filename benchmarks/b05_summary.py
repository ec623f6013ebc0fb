"""``/summary n`` in a big archive: the real command against one primary-key read.

A SQLite file holds 100 groups' archives: 10,000 weekly sessions (100 a group), 50,000 slots
with their papers, cards, threads and questions, written in bulk with the real models
(``benchmarks.archive_seed``; the seeding is not timed). Then, interleaved, for random (group,
n) pairs:

- **A**: ``/summary n`` through ``Yomikai.handle``, in-process (no adapter): cleaning, the
  registry, one read-only transaction on a worker thread (the group, the member, the current
  session, slot n, its paper, card, presenter, thread and questions) and the ``SummaryCard``;
- **A′**: ``/summary n DATE`` for an older session of the group (``session_on``);
- **B** (the floor): ``Session.get(Card, id)`` of a random card through the same ``Unit``, so
  the same thread hand-off, the same engine (the read-only one) and a transaction of its own.

The ratio of medians says what reading a card costs beyond the one row it is mostly made of.
Every answer is checked: a ``SummaryCard`` of slot n showing the title of that session's
paper n; the floor's row is the card asked for.

The search index (migration 0007) is left empty here, its triggers paused while seeding:
``/summary`` never reads it, and filling it for 50,000 slots would take about 40 s more.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from benchmarks.archive_seed import START, Archive, outside_transaction, seed_groups, seed_sessions
from benchmarks.report import Figure, Result, check, ms, spread
from bot.context import Invocation, Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.messages import Reply, SummaryCard
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Card
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.chat import ManualClock

GROUPS = 100
SESSIONS_PER_GROUP = 100
SLOTS = 5
MEMBERS = 12
RUNS = 800
"""Measurements of each kind (after ``WARMUP`` unmeasured ones)."""
WARMUP = 40
TARGET = 3.0


def seed(db: Database, rng: random.Random) -> Archive:
    """The archive, in one transaction, with the search index's triggers paused."""
    with db.session() as session:
        triggers = session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in triggers:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        archive = seed_groups(session, rng, GROUPS, MEMBERS, START)
        seed_sessions(session, rng, archive, SESSIONS_PER_GROUP, SLOTS, START + timedelta(days=2))
        for _, sql in triggers:
            session.execute(text(sql))
    outside_transaction(db, "ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)")
    return archive


def shown(reply: Reply, number: int, title: str, what: str) -> None:
    cards = [m for m in reply.private if isinstance(m, SummaryCard)]
    check(len(cards) == 1, f"{what} answered {reply} instead of a summary card")
    check(cards[0].number == number, f"{what} showed slot {cards[0].number}")
    check(cards[0].title == title, f"{what} showed {cards[0].title!r}, not {title!r}")


async def run() -> Result:
    result = Result(5, "/summary n in a big archive")
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as folder, serve_fake_arxiv() as fake:
        path = Path(folder) / "bench.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db.engine)
        started = time.monotonic()
        archive = seed(db, rng)
        seeded = time.monotonic() - started
        check(len(archive.card_ids) == GROUPS * SESSIONS_PER_GROUP * SLOTS, "cards not seeded")
        arxiv = ArxivSource(fake.url, delay_seconds=0)
        core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), ManualClock(START))

        def invocation(g: int, words: str) -> Invocation:
            member = archive.members[g][rng.randrange(MEMBERS)][1]
            return Invocation("slack", archive.channels[g], member, member, "summary", words)

        async def current() -> float:
            g, n = rng.randrange(GROUPS), rng.randint(1, SLOTS)
            latest = archive.sessions[g][-1]  # the next meeting, two days ahead
            inv = invocation(g, str(n))
            began = time.perf_counter()
            reply = await core.handle(inv)
            took = time.perf_counter() - began
            shown(reply, n, archive.titles[latest][n - 1], f"/summary {n}")
            return took

        async def dated() -> float:
            g, n = rng.randrange(GROUPS), rng.randint(1, SLOTS)
            back = rng.randrange(SESSIONS_PER_GROUP - 1)
            meets = START + timedelta(days=2) - timedelta(weeks=SESSIONS_PER_GROUP - 1 - back)
            day = meets.astimezone(ZoneInfo(archive.zones[g])).date()
            words = f"{n} {day.isoformat()}"
            inv = invocation(g, words)
            began = time.perf_counter()
            reply = await core.handle(inv)
            took = time.perf_counter() - began
            shown(reply, n, archive.titles[archive.sessions[g][back]][n - 1], f"/summary {words}")
            return took

        async def floor() -> float:
            card_id = rng.choice(archive.card_ids)
            began = time.perf_counter()
            card = await core.unit.in_thread(lambda s: s.get(Card, card_id), read_only=True)
            took = time.perf_counter() - began
            check(card is not None and card.id == card_id, f"card {card_id} not read")
            return took

        kinds = {"current": current, "dated": dated, "floor": floor}
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for i in range(WARMUP + RUNS):
            order = list(kinds)
            rng.shuffle(order)  # interleaved, in a different order each time
            for name in order:
                took = await kinds[name]()
                if i >= WARMUP:
                    times[name].append(took)
        await arxiv.aclose()
        size = path.stat().st_size
        db.dispose()

    base = statistics.median(times["floor"])
    floor_text = "p50 {} · p99 {} · max {}".format(*map(ms, spread(times["floor"])))
    for name, what in (
        ("current", "/summary n (the next session)"),
        ("dated", "/summary n DATE (an older one)"),
    ):
        p50, p99, top = spread(times[name])
        result.add(
            Figure(
                what,
                f"p50 {ms(p50)} · p99 {ms(p99)} · max {ms(top)}",
                f"get(Card, id): {floor_text}",
                ratio=p50 / base,
                limit=TARGET,
                target=f"median ≤ {TARGET:g}×",
                runs=len(times[name]),
            )
        )
    result.note(
        f"archive: {GROUPS} groups, {GROUPS * SESSIONS_PER_GROUP:,} sessions,"
        f" {len(archive.card_ids):,} cards, {size / 1e6:.0f} MB of SQLite;"
        f" seeded in {seeded:.0f} s (not timed)"
    )
    return result
