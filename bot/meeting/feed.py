"""A group's calendar feed: every past and planned session as one iCalendar file.

Served by the bot's HTTP server at ``/calendar/<token>.ics`` (``FEED_PATH``; the token is the
group's unguessable ``calendar_token``, looked up by the database's unique index, never listed),
and printed by ``yomikai calendar``. A single session's file is at
``/calendar/event/<uid>.ics`` (the session's UID is as unguessable, and is in every copy of
its event anyway). Adapters only route: the files are made here, in one read-only transaction
run through the unit's worker thread (``feed_file``, ``event_file``).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial

from sqlmodel import Session, select

from bot.i18n import t
from bot.meeting.event import meeting_event
from bot.meeting.ics import calendar_for
from bot.messages import MeetingEvent
from bot.unit import Unit
from storage.models import Group, ReadingSession
from storage.queries import sessions_of

FEED_PATH = "/calendar/{token}.ics"
EVENT_PATH = "/calendar/event/{uid}.ics"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_UID = re.compile(r"[A-Za-z0-9_-]{8,64}")
BUDGET = 5.0
"""Seconds a feed request waits through a database outage (a calendar asks again later)."""


def feed_path(group: Group) -> str:
    return FEED_PATH.format(token=group.calendar_token)


def feed_url(public_url: str, group: Group) -> str:
    """The feed's address under the bot's public base URL (``YOMIKAI_PUBLIC_URL``)."""
    return public_url.rstrip("/") + feed_path(group)


def event_url(public_url: str, reading: ReadingSession) -> str:
    """A single session's ``.ics`` under the public base URL; empty without one."""
    if not public_url:
        return ""
    return public_url.rstrip("/") + EVENT_PATH.format(uid=reading.uid)


def calendar_name(group: Group) -> str:
    return group.name or t(group.locale, "meeting.default_name")


def group_events(session: Session, group: Group) -> list[MeetingEvent]:
    """Every session of the group as an event, cancelled ones too (``STATUS:CANCELLED``)."""
    return [meeting_event(session, group, r) for r in sessions_of(session, group.id or 0)]


def group_feed(session: Session, group: Group, now: datetime) -> bytes:
    events = group_events(session, group)
    return calendar_for(events, calendar_name(group), stamp=now, zone=group.timezone)


def feed_for_token(session: Session, token: str, now: datetime) -> bytes | None:
    """The feed of the group whose token is ``token``; None for any other text."""
    if not _TOKEN.fullmatch(token):
        return None
    group = session.exec(select(Group).where(Group.calendar_token == token)).first()
    if group is None or group.calendar_token != token:  # (a collation may fold case)
        return None
    return group_feed(session, group, now)


def event_for_uid(session: Session, uid: str, now: datetime) -> bytes | None:
    """One session's file (as the agenda's attachment is); None when no session has ``uid``."""
    if not _UID.fullmatch(uid):
        return None
    reading = session.exec(select(ReadingSession).where(ReadingSession.uid == uid)).first()
    group = session.get(Group, reading.group_id) if reading is not None else None
    if reading is None or group is None or reading.uid != uid:
        return None
    event = meeting_event(session, group, reading)
    return calendar_for([event], calendar_name(group), stamp=now)


async def feed_file(unit: Unit, token: str) -> bytes | None:
    """``feed_for_token`` for an HTTP request, in the unit's worker thread."""
    now = unit.clock.now()
    return await unit.in_thread(
        partial(feed_for_token, token=token, now=now), read_only=True, budget=BUDGET
    )


async def event_file(unit: Unit, uid: str) -> bytes | None:
    """``event_for_uid`` for an HTTP request, in the unit's worker thread."""
    now = unit.clock.now()
    return await unit.in_thread(
        partial(event_for_uid, uid=uid, now=now), read_only=True, budget=BUDGET
    )
