"""Dates in a group's own time zone: the next meeting, and how a time is shown."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def next_weekly(after: datetime, zone: ZoneInfo, weekday: int, at: time) -> datetime:
    """The first ``weekday`` at ``at`` (wall-clock time in ``zone``) strictly after ``after``.

    Built from the local date, so a meeting stays at 17:00 local across a DST change.
    """
    local = after.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() != weekday:
            continue
        candidate = datetime.combine(day, at, tzinfo=zone)
        if candidate > after:
            return candidate
    raise AssertionError("a weekday recurs within eight days")  # pragma: no cover
