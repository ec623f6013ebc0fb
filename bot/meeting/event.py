"""A session as a calendar event: what the iCalendar file and a platform's event are made of.

Every change a calendar shows (a session made, moved, cancelled, its papers or presenters
changed) calls ``changed``: the session's revision grows (iCalendar's SEQUENCE) and the
command's reply names the session (``Reply.session_changed``), so its platform event is
updated through the outbox like any post.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.context import Tx
from bot.i18n import t
from bot.messages import MeetingEvent
from storage.models import Group, Member, Paper, ReadingSession
from storage.queries import slots_of

LENGTH = timedelta(hours=1)
"""How long a meeting's event lasts in calendars."""


def changed(tx: Tx, reading: ReadingSession) -> int:
    """Record a change calendars show; the session's id, for ``Reply.session_changed``."""
    reading.revision += 1
    tx.session.add(reading)
    return reading.id or 0


def meeting_event(session: Session, group: Group, reading: ReadingSession) -> MeetingEvent:
    """The session as an event, in the group's zone and language, its papers in slot order."""
    zone = ZoneInfo(group.timezone)
    starts_at = reading.meets_at.astimezone(zone)
    papers = []
    for slot in slots_of(session, reading.id or 0):
        paper = session.get(Paper, slot.paper_id)
        presenter = session.get(Member, slot.presenter_id) if slot.presenter_id else None
        title = paper.title if paper else "?"
        who = presenter.display_name if presenter else t(group.locale, "meet.nobody")
        line = t(group.locale, "meeting.paper_line", number=slot.number, title=title, name=who)
        papers.append(line)
    name = group.name or t(group.locale, "meeting.default_name")
    title = t(group.locale, "meeting.title", name=name, date=f"{starts_at:%Y-%m-%d}")
    return MeetingEvent(
        locale=group.locale,
        session_id=reading.id or 0,
        uid=reading.uid,
        revision=reading.revision,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + LENGTH,
        zone=group.timezone,
        location=group.location,
        papers=tuple(papers),
        cancelled=reading.cancelled_at is not None,
    )
