"""Reading sessions and their slots: which session a command means, and slot n of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, overload

from sqlmodel import select

from bot.args import shorten
from bot.context import Tx
from bot.errors import UserError
from storage.models import ReadingSession, Slot
from storage.queries import (
    SlotParts,
    next_session,
    numbered_slot_parts,
    sessions_between,
    sessions_of,
)

MAX_SLOT = 1_000
"""No session has more slots than this (``MAX_PAPERS`` is far less)."""
MEETING_LASTS = timedelta(hours=12)
"""How long after it starts a meeting is still the one commands mean."""


@overload
def current_session(tx: Tx, *, required: Literal[True] = True) -> ReadingSession: ...
@overload
def current_session(tx: Tx, *, required: bool) -> ReadingSession | None: ...
def current_session(tx: Tx, *, required: bool = True) -> ReadingSession | None:
    """The session commands mean: the next meeting (still the day's own until twelve hours
    after it started); when none is ahead, the latest one. With two rounds closed in one week,
    that is the earlier meeting until it is over; ``/summary n DATE`` reaches the other."""
    reading = next_session(tx.session, tx.bound_group.id or 0, tx.now - MEETING_LASTS)
    if reading is None and required:
        raise UserError("session.none_yet", show_usage=False)
    return reading


def session_on(tx: Tx, day: date) -> ReadingSession:
    """The session meeting on ``day`` (the one not cancelled, when a cancelled session shares
    its day with another)."""
    group_id = tx.bound_group.id or 0
    around = _around(day)  # (only the sessions near that day are read)
    if around is None:
        near = sessions_of(tx.session, group_id)
    else:
        near = sessions_between(tx.session, group_id, *around)
    on_day = [r for r in near if r.meets_at.astimezone(tx.zone).date() == day]
    if on_day:
        return min(on_day, key=lambda r: r.cancelled_at is not None)
    readings = sessions_of(tx.session, group_id)
    if not readings:
        raise UserError("session.none_yet", show_usage=False)
    known = tx.tr("render.separator").join(
        r.meets_at.astimezone(tx.zone).date().isoformat() for r in readings[-5:]
    )
    raise UserError("session.none_on", date=day.isoformat(), known=known)


def _around(day: date) -> tuple[datetime, datetime] | None:
    """UTC times surely holding all of ``day`` in any zone (a day either side); None at the
    calendar's ends (year 1 or 9999), where every session is read instead."""
    try:
        midnight = datetime.combine(day, time(), UTC)
        return midnight - timedelta(days=1), midnight + timedelta(days=2)
    except OverflowError:
        return None


def slot_by_number(tx: Tx, reading: ReadingSession | None, number: int) -> Slot:
    assert reading is not None
    return slot_parts_by_number(tx, reading, number).slot


def slot_parts_by_number(tx: Tx, reading: ReadingSession, number: int) -> SlotParts:
    """Slot ``number`` of ``reading`` with its paper, card, presenter and thread, in one read."""
    assert reading.id is not None
    parts = None
    if number <= MAX_SLOT:  # (a bigger number is no slot, and no SQL integer either)
        parts = numbered_slot_parts(tx.session, reading.id, number)
    if parts is None:
        count = len(tx.session.exec(select(Slot.id).where(Slot.session_id == reading.id)).all())
        raise UserError("slot.no_such", number=shorten(str(number)), count=count)
    return parts
