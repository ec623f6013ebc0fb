"""What a platform's calendar event did, stored: its reference, or a refusal told once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.delivery import outbox
from bot.i18n import t
from bot.messages import Notice
from storage.models import Group, Member, ReadingSession


def event_ref(session: Session, session_id: int) -> str | None:
    reading = session.get(ReadingSession, session_id)
    return reading.event_ref if reading is not None else None


def synced(session: Session, session_id: int, ref: str | None) -> None:
    """The platform's event for the session is ``ref``; events work in its group again."""
    reading = session.get(ReadingSession, session_id)
    if reading is None:
        return
    reading.event_ref = ref
    session.add(reading)
    group = session.get(Group, reading.group_id)
    if group is not None and group.events_refused:
        group.events_refused = False
        session.add(group)


def refused(session: Session, session_id: int, now: datetime) -> list[int]:
    """The platform refused the event: the organizers are told, once until it works again;
    the queued direct messages' ids."""
    reading = session.get(ReadingSession, session_id)
    group = session.get(Group, reading.group_id) if reading is not None else None
    if group is None or group.id is None or group.events_refused:
        return []
    group.events_refused = True
    session.add(group)
    organizers = session.exec(
        select(Member.user_id).where(Member.group_id == group.id, Member.is_organizer)
    ).all()
    notice = Notice(t(group.locale, "meeting.events_refused"))
    prefix = f"events-refused:{group.id}:{now.isoformat()}"
    dms = [(user_id, notice) for user_id in organizers]
    return outbox.queue(session, group.id, prefix, now, dms=dms)
