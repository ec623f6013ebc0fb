"""Organizers change a meeting: ``/yomikai move``, ``/yomikai cancel``; ``/yomikai calendar``.

A move or a cancellation is announced in the channel and revises the session's calendar event
(``changed``), so the agenda posted again, the feed and the platform's own event all show it.

A cancelled session stays stored (and in the feed, ``STATUS:CANCELLED``), but is not the
session commands mean any more, gets no reminders and no meet post, counts for nobody in the
rotation, and its papers go back to the pool. Its day is not taken again by a later close
(the organizers said there is no meeting that day); ``/yomikai move`` may still put another
session there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot import args
from bot.context import Tx
from bot.errors import UserError
from bot.group_setup import parse_time
from bot.meeting.event import changed, meeting_event
from bot.meeting.feed import feed_path, feed_url
from bot.meeting.google import google_link
from bot.messages import Notice, Reply
from bot.sessions import MEETING_LASTS, current_session, session_on
from bot.views import agenda
from storage.models import ReadingSession
from storage.queries import sessions_of, slots_of


def _when(tx: Tx, moment: datetime) -> str:
    return f"{moment.astimezone(tx.zone):%Y-%m-%d %H:%M}"


def _live_on(tx: Tx, day: date) -> list[ReadingSession]:
    return [
        r
        for r in sessions_of(tx.session, tx.bound_group.id or 0, cancelled=False)
        if r.meets_at.astimezone(tx.zone).date() == day
    ]


def move(tx: Tx, text: str) -> Reply:
    """``/yomikai move <date> <new date> [HH:MM]``: the session of ``date`` meets then instead
    (at its own time of day when no time is given), in the group's zone."""
    tx.require_organizer()
    words = args.at_most(text, 3)
    if len(words) < 2:
        raise UserError("calendar.move_missing")
    reading = session_on(tx, args.day(words[0]))
    new_day = args.day(words[1])
    was = reading.meets_at.astimezone(tx.zone)
    at = parse_time(words[2]) if len(words) > 2 else was.time()
    if reading.cancelled_at is not None:
        raise UserError("calendar.move_cancelled", date=f"{was:%Y-%m-%d}", show_usage=False)
    if reading.meets_at <= tx.now:
        raise UserError("calendar.move_over", date=f"{was:%Y-%m-%d}", show_usage=False)
    local = datetime.combine(new_day, at, tzinfo=tx.zone)
    moved = local.astimezone(UTC)
    if moved.astimezone(tx.zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise UserError("calendar.no_such_time", when=f"{local:%Y-%m-%d %H:%M}")  # a DST gap
    if moved <= tx.now:
        raise UserError("calendar.move_past", when=f"{local:%Y-%m-%d %H:%M}", now=_when(tx, tx.now))
    if moved == reading.meets_at:
        return Reply.tell(Notice(tx.tr("calendar.move_same", when=_when(tx, moved))))
    if any(other.id != reading.id for other in _live_on(tx, new_day)):
        raise UserError("calendar.move_taken", date=new_day.isoformat())
    reading.meets_at = moved
    tx.session.add(reading)
    made = changed(tx, reading)
    notice = Notice(tx.tr("calendar.moved", old=f"{was:%Y-%m-%d %H:%M}", new=_when(tx, moved)))
    plan = agenda(tx.session, tx.bound_group, reading, public_url=tx.public_url)
    return Reply(public=(notice, plan), session_changed=made)


def cancel(tx: Tx, text: str) -> Reply:
    """``/yomikai cancel <date>``: the session of that day does not take place."""
    tx.require_organizer()
    words = args.at_most(text, 1)
    if not words:
        raise UserError("args.missing_date")
    day = args.day(words[0])
    reading = session_on(tx, day)
    if reading.cancelled_at is not None:
        return Reply.tell(Notice(tx.tr("calendar.already_cancelled", date=day.isoformat())))
    if reading.meets_at <= tx.now:
        raise UserError("calendar.cancel_over", date=day.isoformat(), show_usage=False)
    reading.cancelled_at = tx.now
    tx.session.add(reading)
    made = changed(tx, reading)
    papers = len(slots_of(tx.session, reading.id or 0))
    notice = Notice(tx.tr("calendar.cancelled", date=_when(tx, reading.meets_at), count=papers))
    return Reply(public=(notice,), session_changed=made)


def calendar_command(tx: Tx, text: str) -> Reply:
    """``/yomikai calendar``: where the group's feed is, and the next meeting's Google link
    (only the organizer who asks sees it: the feed's address is its only key)."""
    if tx.member is None or not tx.member.is_organizer:  # (read-only: a stranger has no row)
        raise UserError("organizer.only", show_usage=False)
    group = tx.bound_group
    lines = []
    if tx.public_url:
        lines.append(tx.tr("calendar.feed", url=feed_url(tx.public_url, group)))
    else:
        lines.append(tx.tr("calendar.feed_path", path=feed_path(group)))
        lines.append(tx.tr("calendar.no_public_url"))
    lines.append(tx.tr("calendar.feed_private"))
    reading = current_session(tx, required=False)
    if reading is not None and reading.meets_at >= tx.now - MEETING_LASTS:
        event = meeting_event(tx.session, group, reading)
        lines.append(tx.tr("calendar.next", when=_when(tx, reading.meets_at)))
        lines.append(tx.tr("calendar.google", url=google_link(event)))
    else:
        lines.append(tx.tr("calendar.no_next"))
    title = tx.tr("calendar.title")
    return Reply.tell(Notice(title, title=title, lines=tuple(lines)))
