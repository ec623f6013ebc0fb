"""APScheduler on the one event loop: a cron job per group, job and rule, rebuilt from the database.

Nothing about the schedule lives only in memory: at start, and every minute (so a change made
through another replica arrives too), the installed jobs are reconciled with the groups' stored
schedules. What makes a run happen once is the outbox claim in ``bot.jobs``, not this module.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, select

from bot.calendar import WEEKDAYS
from bot.core import Yomikai
from bot.jobs import GRACE
from bot.schedule import JOBS, Rule, off_rule_meetings, rules
from storage.models import Group

log = logging.getLogger(__name__)

RECONCILE_SECONDS = 60


Spec = tuple[int, str, Rule | datetime, str]
"""(group, job, weekly rule or one moment, time zone)."""


def _desired(session: Session, now: datetime) -> dict[str, Spec]:
    """Job id → (group, job, rule, time zone) for every rule of every group, and the meet
    of every coming session moved off the weekly meeting time (``/yomikai move``)."""
    wanted: dict[str, Spec] = {}
    for group in session.exec(select(Group)):
        for job in JOBS:
            for index, rule in enumerate(rules(group, job)):
                wanted[f"{group.id}:{job}:{index}"] = (group.id or 0, job, rule, group.timezone)
        for moment in off_rule_meetings(session, group):
            if moment > now:
                key = f"{group.id}:meet:at:{moment:%Y%m%dT%H%MZ}"
                wanted[key] = (group.id or 0, "meet", moment, group.timezone)
    return wanted


def trigger(rule: Rule | datetime, timezone: str) -> CronTrigger | DateTrigger:
    zone = ZoneInfo(timezone)
    if isinstance(rule, datetime):
        return DateTrigger(run_date=rule.astimezone(zone))
    day = WEEKDAYS[rule.weekday] if rule.weekday is not None else "*"
    return CronTrigger(day_of_week=day, hour=rule.at.hour, minute=rule.at.minute, timezone=zone)


class Scheduler:
    def __init__(self, core: Yomikai) -> None:
        self.core = core
        # coalesce: runs missed while the loop was busy collapse into one; misfire grace: a run
        # late by up to GRACE still happens (the job itself re-checks this against its due time).
        self.aps = AsyncIOScheduler(
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(GRACE.total_seconds()),
            }
        )
        self._installed: dict[str, Spec] = {}

    async def start(self) -> None:
        """Install every group's jobs, catch up on runs due within the grace period, go."""
        self.aps.start()
        await self.reconcile()
        await self.catch_up()
        self.aps.add_job(self.reconcile, IntervalTrigger(seconds=RECONCILE_SECONDS), id="reconcile")
        self.core.on_schedule_change = self.reconcile

    async def stop(self) -> None:
        self.core.on_schedule_change = None
        if self.aps.running:
            self.aps.shutdown(wait=False)

    async def reconcile(self) -> None:
        """Make the installed jobs match the stored schedules (added, changed, removed)."""
        now = self.core.clock.now()
        wanted = await self.core.in_thread(lambda session: _desired(session, now))
        for job_id in set(self._installed) - set(wanted):
            if self.aps.get_job(job_id) is not None:  # (a one-off run removes itself)
                self.aps.remove_job(job_id)
            del self._installed[job_id]
        for job_id, spec in wanted.items():
            if self._installed.get(job_id) == spec:
                continue
            group_id, job, rule, timezone = spec
            self.aps.add_job(
                self.core.jobs.run_scheduled,
                trigger(rule, timezone),
                args=(group_id, job),
                id=job_id,
                replace_existing=True,
            )
            self._installed[job_id] = spec
            log.info("scheduled %s for group %d: %s (%s)", job, group_id, rule, timezone)

    async def catch_up(self) -> None:
        """A run that fell due while the bot was down, within the grace period, happens now."""
        groups = await self.core.in_thread(lambda s: [g.id for g in s.exec(select(Group))])
        for group_id in groups:
            for job in JOBS:
                await self.core.jobs.run_scheduled(group_id or 0, job)

    def next_runs(self) -> dict[str, datetime]:
        """Installed job id → its next run time (for status and tests)."""
        return {
            job.id: job.next_run_time
            for job in self.aps.get_jobs()
            if job.id != "reconcile" and job.next_run_time is not None
        }
