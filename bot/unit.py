"""The unit of work every part of the core shares: the database, the clock, one transaction.

A transaction that lost a race (a unique key taken meanwhile) runs again at once; one that met
a passing outage (SQLite's ``database is locked``, PostgreSQL restarting or refusing connections,
a serialization failure) runs again after a pause that doubles, with jitter, until its time
budget is spent. Nothing here runs on the event loop: ``in_thread`` hands the work to a thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from bot.clock import Clock
from storage.db import QUICK_TIMEOUT_MS, Database

log = logging.getLogger(__name__)
T = TypeVar("T")

RACE_RETRIES = 3
"""A transaction that lost a race on a unique key is run again this many times."""
OUTAGE_BUDGET = 30.0
"""Seconds a transaction keeps trying through an outage before it gives up."""
FIRST_PAUSE = 0.05
MAX_PAUSE = 2.0
WORK_THREADS = 16
QUICK_THREADS = 4


# Transactions wait out outages in their threads; requests are recorded on threads of their own
# (one set per process), so recording one never queues behind work waiting for the database.
_WORK = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="yomikai-db")
_QUICK = ThreadPoolExecutor(QUICK_THREADS, thread_name_prefix="yomikai-receive")


class DatabaseUnavailable(RuntimeError):
    """The database did not answer within the budget (raised from the last error)."""


def is_outage(error: BaseException) -> bool:
    """An error that goes away by itself: a lock, a lost or refused connection, a conflict."""
    if isinstance(error, IntegrityError):
        return False
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, InterfaceError):
        return True
    if isinstance(error, OperationalError):
        text = str(error.orig if error.orig is not None else error).lower()
        return not any(word in text for word in ("no such", "syntax error", "does not exist"))
    return False


class Unit:
    """The database and the clock, handed to the core, the jobs, delivery and redraws."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def in_thread(
        self,
        step: Callable[[Session], T],
        *,
        budget: float = OUTAGE_BUDGET,
        quick: bool = False,
        read_only: bool = False,
    ) -> T:
        """Run ``step`` in one transaction on a worker thread (the loop never waits on SQL)."""
        work = partial(self.transact, step, budget=budget, quick=quick, read_only=read_only)
        pool = _QUICK if quick else _WORK
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    async def run(self, work: Callable[[], T]) -> T:
        """Run blocking database work (a whole command) on the database threads."""
        return await asyncio.get_running_loop().run_in_executor(_WORK, work)

    def transact(
        self,
        step: Callable[[Session], T],
        *,
        budget: float = OUTAGE_BUDGET,
        quick: bool = False,
        read_only: bool = False,
    ) -> T:
        """One transaction, run again after a lost race or through a passing outage.

        ``quick`` uses the database's quick engine (locks waited for two seconds at most);
        ``read_only`` a transaction that writes nothing (no write lock on SQLite).
        """
        deadline = time.monotonic() + budget
        # A quick attempt may itself wait this long: start none that cannot end in time.
        attempt = QUICK_TIMEOUT_MS / 1000 if quick else 0.0
        races = 0
        pause = FIRST_PAUSE
        while True:
            try:
                with self.db.session(quick=quick, read_only=read_only) as session:
                    return step(session)
            except IntegrityError:
                races += 1
                if races > RACE_RETRIES:
                    raise
                log.info("a transaction lost a race; running it again (%d)", races)
            except (OperationalError, InterfaceError, DBAPIError) as error:
                wait = pause * (0.5 + random.random())
                if not is_outage(error) or time.monotonic() + wait + attempt > deadline:
                    if is_outage(error):
                        raise DatabaseUnavailable(reason(error)) from error
                    raise
                log.warning("the database is unavailable (%s); trying again", reason(error))
                time.sleep(wait)
                pause = min(pause * 2, MAX_PAUSE)


def reason(error: BaseException) -> str:
    """The first line of the driver's message, without the statement or its parameters."""
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__
