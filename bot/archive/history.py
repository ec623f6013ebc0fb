"""``/yomikai history [member]``: who presented what and when, and the rotation at a glance.

The list is of sessions that met (newest first, a cancelled one never met); the rotation's lines
count what ``bot.rotation`` counts for fairness (``storage.queries.presentation_counts``), split
into what was presented and what is coming up, in the rotation's own order: who is next first.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from bot import args
from bot.context import Tx
from bot.group_setup import resolve_member
from bot.messages import Notice, Reply
from bot.rotation import rotation_order
from storage.models import Member, Paper, ReadingSession, Slot
from storage.queries import presentation_counts

SHOWN = 10
"""Lines of the list shown; the reply says how many earlier ones there are."""


def history(tx: Tx, text: str) -> Reply:
    words = args.at_most(text, 1)
    who = resolve_member(tx, words[0]) if words else None
    return Reply.tell(_presented(tx, who), _rotation(tx, who))


def _presented(tx: Tx, who: Member | None) -> Notice:
    group = tx.bound_group
    slots = (
        select(Slot, ReadingSession, Paper)
        .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
        .join(Paper, col(Paper.id) == col(Slot.paper_id))
        .where(
            ReadingSession.group_id == group.id,
            col(ReadingSession.meets_at) <= tx.now,  # (the sessions that met)
            col(ReadingSession.cancelled_at).is_(None),
        )
    )
    if who is not None:
        slots = slots.where(Slot.presenter_id == who.id)
    total = tx.session.exec(select(func.count()).select_from(slots.subquery())).one()
    rows = tx.session.exec(
        slots.order_by(col(ReadingSession.meets_at).desc(), col(Slot.number)).limit(SHOWN)
    ).all()
    title = tx.tr("history.title_member", name=who.display_name) if who else tx.tr("history.title")
    if not rows:
        empty = (
            tx.tr("history.none_member", name=who.display_name) if who else tx.tr("history.none")
        )
        return Notice(title, title=title, lines=(empty,))
    lines = []
    for slot, reading, paper in rows:
        day = f"{reading.meets_at.astimezone(tx.zone):%Y-%m-%d}"
        presenter = tx.session.get(Member, slot.presenter_id) if slot.presenter_id else None
        said = {"date": day, "number": slot.number, "title": paper.title}
        if presenter is None:
            lines.append(tx.tr("history.line_open", **said))
        else:
            lines.append(tx.tr("history.line", name=presenter.display_name, **said))
    if total > len(rows):
        lines.append(tx.tr("history.more", count=total - len(rows)))
    return Notice(title, title=title, lines=tuple(lines))


def _rotation(tx: Tx, who: Member | None) -> Notice:
    """Each member of the rotation, who is next first: presented so far, the last time, and
    what is coming up (the rotation's fairness counts both)."""
    group_id = tx.bound_group.id or 0
    presented = presentation_counts(tx.session, group_id, before=tx.now)
    counted = presentation_counts(tx.session, group_id)
    order = rotation_order(tx, date.max)  # (everyone in it, the away ones too)
    members = [m for m in order if who is None or m.id == who.id]
    title = tx.tr("history.rotation_title")
    if who is not None and not members:
        return Notice(
            title, title=title, lines=(tx.tr("history.not_in_rotation", name=who.display_name),)
        )
    if not members:
        return Notice(title, title=title, lines=(tx.tr("history.rotation_empty"),))
    lines = []
    for member in members:
        count, last = presented.get(member.id or 0, (0, None))
        name = member.display_name
        if count and last is not None:
            day = f"{last.astimezone(tx.zone):%Y-%m-%d}"
            line = tx.tr("history.rotation_line", name=name, count=count, date=day)
        else:
            line = tx.tr("history.rotation_never", name=name)
        coming = counted.get(member.id or 0, (0, None))[0] - count
        if coming > 0:
            line = tx.tr("history.rotation_planned", line=line, count=coming)
        today = tx.now.astimezone(tx.zone).date()
        if member.away_until is not None and member.away_until >= today:
            line = tx.tr("history.rotation_away", line=line, date=member.away_until.isoformat())
        lines.append(line)
    return Notice(title, title=title, lines=tuple(lines))
