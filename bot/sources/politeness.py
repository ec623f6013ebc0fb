"""arXiv's politeness budget: one request at a time, three seconds apart, for the installation.

arXiv's terms count every machine of one user together, so the API and the HTML pages share one
budget, and it is kept in the database (``polite_budget``): every process, replica and one-shot
command takes its turn there. A turn is a lease (a process that dies mid-request frees it when
the lease runs out); the next turn starts ``spacing`` after the previous one ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, update
from sqlmodel import col

from storage.db import Database
from storage.models import PoliteBudget
from storage.queries import insert_ignore

POLL = 0.5
"""Longest single wait before looking at the budget again (a freed turn is seen this soon)."""


class Budget(Protocol):
    """Spaces out requests to one service; ``turn`` blocks a thread, ``aturn`` a coroutine."""

    def turn(self) -> contextlib.AbstractContextManager[None]: ...

    def aturn(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def free_in(self) -> float:
        """Seconds until the next turn may start (a hint: another may take it first)."""
        ...


class LocalBudget:
    """The budget of one process (tests and tools with no database)."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._lock = threading.Lock()
        self._last_done: float | None = None

    def _wait(self) -> float:
        if self._last_done is None:
            return 0.0
        return max(0.0, self._last_done + self.spacing - time.monotonic())

    def free_in(self) -> float:
        return max(self._wait(), self.spacing if self._lock.locked() else 0.0)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            time.sleep(self._wait())
            try:
                yield
            finally:
                self._last_done = time.monotonic()

    @contextlib.asynccontextmanager
    async def aturn(self) -> AsyncIterator[None]:
        await asyncio.to_thread(self._lock.acquire)
        try:
            await asyncio.sleep(self._wait())
            yield
        finally:
            self._last_done = time.monotonic()
            self._lock.release()


class SharedBudget:
    """The budget every process of an installation shares, kept in the database."""

    def __init__(self, db: Database, name: str, spacing: float, hold: float = 60.0) -> None:
        self.db = db
        self.name = name
        self.spacing = spacing
        self.hold = hold
        """How long a turn may last before another process may take it (a dead holder)."""
        self._made = False
        """The budget's row exists (it is made once, never deleted)."""

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        token = uuid.uuid4().hex
        while (wait := self._take(token)) > 0:
            time.sleep(min(wait, POLL))
        try:
            yield
        finally:
            self._give_back(token)

    @contextlib.asynccontextmanager
    async def aturn(self) -> AsyncIterator[None]:
        token = uuid.uuid4().hex
        while (wait := await asyncio.to_thread(self._take, token)) > 0:
            await asyncio.sleep(min(wait, POLL))
        try:
            yield
        finally:
            await asyncio.shield(asyncio.to_thread(self._give_back, token))

    def free_in(self) -> float:
        now = datetime.now(UTC)
        with self.db.session(read_only=True) as session:
            row = session.get(PoliteBudget, self.name)
            if row is None:
                return 0.0
            ends = [t for t in (row.free_at, row.lease_until if row.holder else None) if t]
            return max([0.0, *((t - now).total_seconds() for t in ends)])

    def _take(self, token: str) -> float:
        """Take the turn for ``token`` (0.0) or say how long until it may be free."""
        now = datetime.now(UTC)
        with self.db.session() as session:
            if not self._made:  # (not on every look: a waiter looks twice a second)
                insert_ignore(session, PoliteBudget, {"name": self.name}, ("name",))
                self._made = True
            taken = session.execute(
                update(PoliteBudget)
                .where(col(PoliteBudget.name) == self.name)
                .where(or_(col(PoliteBudget.free_at).is_(None), col(PoliteBudget.free_at) <= now))
                .where(
                    or_(
                        col(PoliteBudget.holder) == "",
                        col(PoliteBudget.lease_until).is_(None),
                        col(PoliteBudget.lease_until) <= now,
                    )
                )
                .values(holder=token, lease_until=now + timedelta(seconds=self.hold))
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return 0.0
            row = session.get(PoliteBudget, self.name)
            if row is None:  # the transaction that made it did not commit: make it again
                self._made = False
                return 0.01
            ends = [t for t in (row.free_at, row.lease_until if row.holder else None) if t]
            return max(0.01, max((t - now).total_seconds() for t in ends) if ends else 0.01)

    def _give_back(self, token: str) -> None:
        free_at = datetime.now(UTC) + timedelta(seconds=self.spacing)
        with self.db.session() as session:
            session.execute(
                update(PoliteBudget)
                .where(col(PoliteBudget.name) == self.name, col(PoliteBudget.holder) == token)
                .values(holder="", lease_until=None, free_at=free_at)
            )
