"""Walking simulated time: run every job when it falls due, the way the scheduler would."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.core import Yomikai
from bot.schedule import JOBS, next_due
from storage.models import Group
from tests.fakes.chat import ManualClock

LATE = timedelta(seconds=5)
"""How late each simulated run fires after its due time (a real scheduler is never exact)."""


async def run_until(core: Yomikai, clock: ManualClock, end: datetime) -> int:
    """Advance ``clock`` from due time to due time up to ``end``, running what falls due.

    Returns how many job runs were started (claimed or not).
    """
    runs = 0
    while True:
        groups = await core.in_thread(lambda s: list(s.exec(select(Group))))
        due = [
            (when, group.id or 0, job)
            for group in groups
            for job in JOBS
            if (when := next_due(group, job, clock.now())) is not None and when <= end
        ]
        if not due:
            clock.current = end
            return runs
        first = min(when for when, _, _ in due)
        clock.current = first + LATE
        for when, group_id, job in sorted(due, key=lambda d: (d[0], d[1], JOBS.index(d[2]))):
            if when == first:
                await core.jobs.run_scheduled(group_id, job)
                runs += 1
