"""Walking simulated time: run every job when it falls due, the way the scheduler would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlmodel import select

from bot.core import Yomikai
from bot.schedule import JOBS, next_due, off_rule_meetings
from storage.models import Group
from tests.fakes.chat import ManualClock

LATE = timedelta(seconds=5)
"""How late each simulated run fires after its due time (a real scheduler is never exact)."""


async def run_until(
    core: Yomikai,
    clock: ManualClock,
    end: datetime,
    in_step: Callable[[], Awaitable[object]] | None = None,
) -> int:
    """Advance ``clock`` from due time to due time up to ``end``, running what falls due.

    Several processes walking one week together pass ``in_step`` (a barrier), awaited before
    and after each due time's runs: they race for the same jobs at once, as replicas sharing a
    real clock do, and none runs ahead into days whose state another is still making.
    Returns how many job runs were started (claimed or not).
    """
    runs = 0
    while True:
        groups = await core.in_thread(
            lambda s: [(g, off_rule_meetings(s, g)) for g in s.exec(select(Group))]
        )
        due = [  # (a moved session's meet runs at its own time, as the scheduler installs it)
            (when, group.id or 0, job)
            for group, moved in groups
            for job in JOBS
            if (when := next_due(group, job, clock.now(), moved if job == "meet" else ()))
            is not None
            and when <= end
        ]
        if not due:
            clock.current = end
            return runs
        first = min(when for when, _, _ in due)
        clock.current = first + LATE
        if in_step is not None:
            await in_step()
        for when, group_id, job in sorted(due, key=lambda d: (d[0], d[1], JOBS.index(d[2]))):
            if when == first:
                await core.jobs.run_scheduled(group_id, job)
                runs += 1
        if in_step is not None:
            await in_step()
