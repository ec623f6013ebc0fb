"""A simulated week of requests through the real inbox, to see ``received_request`` stay bounded.

Requests arrive through ``Yomikai.receive`` (the ``Recorder``: batched, and every
``PRUNE_EVERY`` it calls ``inbox.forget``), ``AT_ONCE`` at a time, while a ``ManualClock`` walks
the week; each is then marked done as its command's transaction would (``inbox.take``; here one
statement per batch). A mix like a busy group's: vote clicks
and slash commands from Slack (recorded with what to run again), and Discord interactions
recorded by key only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, func, select

from benchmarks.db_size import table_size, vacuum
from benchmarks.report import check
from bot.context import Invocation
from bot.core import Received, Yomikai
from bot.delivery import inbox
from bot.delivery.recorder import PRUNE_EVERY
from storage.models import ReceivedRequest
from tests.fakes.chat import ManualClock

AT_ONCE = 100
VACUUM_EVERY = timedelta(hours=4)
"""PostgreSQL: how often the simulated week vacuums the table. Autovacuum would, by its default
rule (20% of the rows dead), about every five hours here; but the week passes in seconds, and
autovacuum looks once a minute of real time."""
TABLE = "received_request"


@dataclass
class Week:
    requests: int
    days: int
    rows: int = 0
    expected: int = 0
    """Rows the inbox's rule keeps: those received since the last ``forget``'s cutoff."""
    day_rows: int = 0
    day_bytes: int = 0
    """After the first day: one day's worth (``MEMORY``), nothing forgotten yet."""
    end_bytes: int = 0
    seconds: float = 0.0
    daily_bytes: list[int] = field(default_factory=list)


Request = tuple[str, str | None, Invocation | None, dict[str, str] | None, dict[str, Any]]


def request(n: int, channel: str) -> Request:
    """Request ``n``: (key, op, invocation, address, args) as the adapters record it."""
    user = f"U{n % 40:08d}"
    address = {
        "channel_id": channel,
        "response_url": f"https://hooks.slack.com/actions/T0001/{n:010d}/{n * 7919:024x}",
    }
    trigger = f"{n:010d}.{n * 31:012d}.{n * 104729:032x}"
    if n % 10 < 6:  # a vote click
        inv = Invocation("slack", channel, user, f"member {n % 40}", "vote", "", "T0001")
        key = f"slack:block_actions:{trigger}:{1764000000 + n}.{n % 1000000:06d}"
        return key, "vote", inv, address, {"round_id": 1 + n % 50, "candidate_id": 1 + n % 750}
    if n % 10 < 9:  # a slash command
        text = "2204.06974 the scaling laws everyone cites" if n % 2 else str(1 + n % 5)
        command = "nominate" if n % 2 else "summary"
        inv = Invocation("slack", channel, user, f"member {n % 40}", command, text, "T0001")
        return f"slack:command:{trigger}:", "command", inv, address, {}
    return f"discord:{1200000000000000000 + n}", None, None, None, {}


def finish(session: Session, keys: list[str]) -> None:
    """Mark requests done, as ``inbox.take`` does in each command's transaction (here one
    statement for the batch: the rows end the same, in a tenth of the time)."""
    table = ReceivedRequest.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.key.in_(keys), table.c.state == inbox.PENDING)
        .values(state=inbox.DONE, payload=None, lease_until=None)
    )


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(ReceivedRequest)).one())


async def week(core: Yomikai, clock: ManualClock, channel: str, requests: int, days: int) -> Week:
    """``requests`` requests spread evenly over ``days`` simulated days, into an empty
    ``received_request`` and through a core of their own (its recorder has not pruned yet);
    the table's rows and bytes after the first day and at the end."""
    found = Week(requests, days)
    db = core.unit.db
    tick = timedelta(days=days) * AT_ONCE / requests
    per_day = requests // days
    per_vacuum = per_day * VACUUM_EVERY // timedelta(days=1)
    received: list[datetime] = []
    pruned: datetime | None = None  # (the recorder's rule, modelled: forget once an hour)
    cutoff: datetime | None = None
    started = time.monotonic()
    check(await core.unit.in_thread(count) == 0, "the inbox was not empty at the start")
    for first in range(0, requests, AT_ONCE):
        now = clock.now()
        batch = [request(n, channel) for n in range(first, min(requests, first + AT_ONCE))]
        outcomes = await asyncio.gather(
            *(core.receive(key, op, inv, address, **args) for key, op, inv, address, args in batch)
        )
        check(all(o is Received.NEW for o in outcomes), f"requests not recorded: {outcomes}")
        if pruned is None or now - pruned >= PRUNE_EVERY:
            pruned, cutoff = now, now - inbox.MEMORY
        received.extend(now for _ in batch)
        keys = [key for key, op, *_ in batch if op is not None]
        await core.unit.in_thread(partial(finish, keys=keys))
        clock.advance(seconds=tick.total_seconds())
        done = first + len(batch)
        if done // per_vacuum != first // per_vacuum:
            vacuum(db, TABLE)
        if done // per_day != first // per_day:  # a day ended
            found.daily_bytes.append(table_size(db, TABLE))
            if len(found.daily_bytes) == 1:
                found.day_bytes = found.daily_bytes[0]
                found.day_rows = await core.unit.in_thread(count)
    found.end_bytes = table_size(db, TABLE)
    found.rows = await core.unit.in_thread(count)
    found.expected = sum(1 for at in received if cutoff is None or at >= cutoff)
    found.seconds = time.monotonic() - started
    return found
