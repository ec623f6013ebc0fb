"""The engine and session factory: SQLite tuned for a bot (WAL, busy timeout), or any URL."""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_BUSY_TIMEOUT_MS = 10_000
QUICK_TIMEOUT_MS = 2_000
"""The quick engine's limit on waiting for a lock or a connection: a request is recorded
within Slack's and Discord's 3 s."""


def make_engine(url: str, *, wait_ms: int | None = None, read_only: bool = False) -> Engine:
    """An engine for ``url``; for SQLite, WAL mode, a busy timeout and write-ahead locking.

    ``wait_ms`` bounds how long a statement waits for a lock and PostgreSQL for a connection
    (default: SQLite waits ``SQLITE_BUSY_TIMEOUT_MS``, PostgreSQL as long as it takes).
    ``read_only`` (SQLite): transactions begin deferred, so reads never queue for the write
    lock (WAL lets them read beside a writer).
    """
    if make_url(url).get_backend_name() != "sqlite":
        if wait_ms is None:
            return create_engine(url, pool_pre_ping=True)
        options = f"-c lock_timeout={wait_ms} -c statement_timeout={2 * wait_ms}"
        connect = {"connect_timeout": max(1, wait_ms // 1000), "options": options}
        return create_engine(url, pool_pre_ping=True, pool_size=2, connect_args=connect)
    busy_ms = SQLITE_BUSY_TIMEOUT_MS if wait_ms is None else wait_ms
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below decide when transactions start (pysqlite's own
        # implicit BEGIN is deferred, which lets two writers deadlock instead of waiting).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a transaction that read first and then writes could
        # otherwise fail at once with SQLITE_BUSY when another process wrote in between.
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class WriterGate:
    """SQLite's one writer, handed from each writer to the next; urgent ones go first.

    A request being recorded before its acknowledgement (``urgent``) must not queue behind
    the sixteen votes waiting to be stored: it gets the gate as soon as the current writer
    leaves. Each waiter has an event of its own, so a release wakes one thread, not all.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._urgent: deque[threading.Event] = deque()
        self._others: deque[threading.Event] = deque()

    def acquire(self, timeout: float, *, urgent: bool = False) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            queue = self._urgent if urgent else self._others
            queue.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            queue.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            for queue in (self._urgent, self._others):
                if queue:
                    queue.popleft().set()  # the gate stays held: it passes to that waiter
                    return
            self._held = False


class Database:
    """One engine and the sessions made from it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._quick: Engine | None = None
        self._reader: Engine | None = None
        self._sqlite = make_url(url).get_backend_name() == "sqlite"
        self._writer = WriterGate()
        """SQLite has one writer at a time: this process's writers queue here, in turn, rather
        than all polling the file lock (its busy handler lets an unlucky one wait forever)."""

    @property
    def quick_engine(self) -> Engine:
        """An engine whose statements give up after ``QUICK_TIMEOUT_MS`` (made on first use)."""
        if self._quick is None:
            self._quick = make_engine(self.url, wait_ms=QUICK_TIMEOUT_MS)
        return self._quick

    @property
    def read_engine(self) -> Engine:
        """For transactions that only read: on SQLite they take no write lock."""
        if self._reader is None:
            self._reader = make_engine(self.url, read_only=True) if self._sqlite else self.engine
        return self._reader

    @contextmanager
    def session(self, *, quick: bool = False, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        ``quick``: for work that must answer within a platform's deadline (recording a
        request), waits for a lock or a connection two seconds at most. ``read_only``: a
        transaction that writes nothing (on SQLite it does not queue behind writers).
        """
        engine = self.quick_engine if quick else self.read_engine if read_only else self.engine
        queued = self._sqlite and not read_only
        if queued:
            wait = (QUICK_TIMEOUT_MS if quick else SQLITE_BUSY_TIMEOUT_MS) / 1000
            if not self._writer.acquire(wait, urgent=quick):
                locked = sqlite3.OperationalError("database is locked")
                raise OperationalError("BEGIN IMMEDIATE", {}, locked)
        try:
            with Session(engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if queued:
                self._writer.release()

    def dispose(self) -> None:
        self.engine.dispose()
        for extra in (self._quick, self._reader):
            if extra is not None and extra is not self.engine:
                extra.dispose()
