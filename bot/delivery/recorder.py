"""Requests recorded together: one transaction for every request that arrived meanwhile.

Fifty people click at once when a ballot goes up, and each click must be written down before
it is acknowledged (``bot.delivery.inbox``). On SQLite every write queues for the one writer,
beside the votes being stored, so fifty one-row transactions made the last click wait for all
the others. Here a request joins the batch being gathered; one batch is written at a time, in
one transaction (group commit), and every request in it learns whether it was new. A batch
that cannot be written in time fails all of its requests, each of which is then answered
"did not go through" as before.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from bot.delivery import inbox
from bot.unit import Unit

PRUNE_EVERY = timedelta(hours=1)
"""How often a process deletes forgotten request keys (not on every request: a hot path)."""
MIN_BUDGET = 0.5
"""Seconds a batch may always take, however long its oldest request already waited."""
MAX_BATCH = 200
"""Requests written in one statement at most (SQLite bounds a statement's parameters)."""


@dataclass
class _Request:
    key: str
    payload: dict[str, Any] | None
    now: datetime
    answer: asyncio.Future[bool]
    arrived: float = field(default_factory=time.monotonic)


class Recorder:
    """Writes requests to the inbox in batches, one batch at a time (per process)."""

    def __init__(self, unit: Unit, budget: float) -> None:
        self.unit = unit
        self.budget = budget
        """Seconds from a request's arrival until its recording gives up."""
        self._waiting: list[_Request] = []
        self._writing: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pruned_at: datetime | None = None

    async def record(self, key: str, payload: dict[str, Any] | None, now: datetime) -> bool:
        """Record one request; False when its key was recorded before (a repeat).

        Raises what the database raised when the batch could not be written in time.
        """
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests): nothing of the old one carries over
            self._loop, self._waiting, self._writing = loop, [], None
        request = _Request(key, payload, now, loop.create_future())
        self._waiting.append(request)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_all(), name="inbox recorder")
        return await request.answer

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            oldest = min(r.arrived for r in batch)
            budget = max(MIN_BUDGET, self.budget - (time.monotonic() - oldest))
            try:
                fresh = await self.unit.in_thread(
                    partial(self._write, batch), budget=budget, quick=True
                )
            except Exception as error:
                for request in batch:
                    if not request.answer.done():
                        request.answer.set_exception(error)
            else:
                for request, new in zip(batch, fresh, strict=True):
                    if not request.answer.done():
                        request.answer.set_result(new)

    def _write(self, batch: list[_Request], session: Session) -> list[bool]:
        now = max(r.now for r in batch)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            inbox.forget(session, now)
            self._pruned_at = now
        return inbox.receive(session, [(r.key, r.payload, r.now) for r in batch])
