"""Sessions as iCalendar (RFC 5545), made with the ``icalendar`` package: never written by hand.

One function makes both files: a single session's (the agenda's attachment) and a group's
whole feed (every past and planned session; a cancelled one stays, ``STATUS:CANCELLED``, so a
subscribed calendar drops it instead of keeping a stale meeting).

Each event keeps the session's UID (``<uid>@yomikai``) through every change, with the
session's revision as ``SEQUENCE``, so a calendar replaces the event it has instead of adding a
second one. Times are the group's wall-clock times with the group's ``TZID`` and a ``VTIMEZONE``
made from the zoneinfo database: never floating, never only UTC (a group meeting in ``UTC``
itself gets UTC times, ``…Z``, which RFC 5545 writes without a TZID).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.messages import MeetingEvent

if TYPE_CHECKING:  # icalendar is imported where a calendar is made (not at every start)
    from icalendar import Event

PRODID = "-//Yomikai//Yomikai reading sessions//EN"
UID_DOMAIN = "yomikai"
MIME_TYPE = "text/calendar; charset=utf-8"


def event_uid(event: MeetingEvent) -> str:
    """The iCalendar UID of a session: the same for as long as the session exists."""
    return f"{event.uid}@{UID_DOMAIN}"


def local_times(event: MeetingEvent) -> tuple[datetime, datetime]:
    """Start and end in the group's zone (an event read back from the outbox carries only a
    fixed offset; the zone's name says which rules apply)."""
    zone = ZoneInfo(event.zone)
    return event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)


def _vevent(event: MeetingEvent, stamp: datetime) -> Event:
    from icalendar import Event

    starts_at, ends_at = local_times(event)
    vevent = Event()
    vevent.add("uid", event_uid(event))
    vevent.add("sequence", event.revision)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", starts_at)
    vevent.add("dtend", ends_at)
    vevent.add("summary", event.title)
    if event.papers:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url.startswith(("https://", "http://")):
        vevent.add("url", event.url)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    return vevent


def calendar_for(
    events: Sequence[MeetingEvent],
    name: str,
    *,
    stamp: datetime,
    zone: str | None = None,
) -> bytes:
    """A VCALENDAR of ``events`` called ``name``, with a VTIMEZONE for every zone they use.

    ``stamp`` is when the file is made (each event's DTSTAMP: the core passes its clock's
    time); ``zone`` is the calendar's own zone (``X-WR-TIMEZONE``), by default the first
    event's (a feed with no session yet passes the group's).
    """
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    shown_zone = zone or (events[0].zone if events else None)
    if shown_zone:
        calendar.add("x-wr-timezone", shown_zone)
    for event in events:
        calendar.add_component(_vevent(event, stamp))
    if events:
        # The VTIMEZONE covers every session (a year either side), not 1970 to 2038.
        first = min(e.starts_at for e in events).year - 1
        last = max(e.ends_at for e in events).year + 1
        calendar.add_missing_timezones(first_date=date(first, 1, 1), last_date=date(last, 12, 31))
    data: bytes = calendar.to_ical()
    return data


def filename(event: MeetingEvent) -> str:
    """The attachment's name: ``yomikai-2026-12-09.ics``."""
    return f"yomikai-{local_times(event)[0]:%Y-%m-%d}.ics"
