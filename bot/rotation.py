"""Who presents: the opt-in rotation, availability, and fixing a session's assignments."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import col, select

from bot import args
from bot.context import Tx
from bot.errors import UserError
from bot.group_setup import resolve_member
from bot.meeting.event import changed
from bot.messages import Message, Notice, Reply
from bot.sessions import current_session, slot_by_number
from bot.views import agenda
from storage.models import Member, ReadingSession
from storage.queries import presentation_counts, slots_of
from storage.types import as_utc

NEVER = datetime.min.replace(tzinfo=UTC)


def rotation_order(tx: Tx, meets_on: date) -> list[Member]:
    """Members in the rotation who can present on ``meets_on``, fairest first.

    Fewest presentations first, then longest since their last one (never presented counts as
    longest), then who joined first.
    """
    group = tx.bound_group
    history = presentation_counts(tx.session, group.id or 0)
    members = tx.session.exec(
        select(Member).where(Member.group_id == group.id, col(Member.in_rotation).is_(True))
    ).all()

    def fairness(member: Member) -> tuple[int, datetime, datetime, int]:
        count, last = history.get(member.id or 0, (0, None))
        joined = member.joined_rotation_at or member.created_at
        return (count, as_utc(last) or NEVER, joined, member.id or 0)

    available = [m for m in members if m.away_until is None or m.away_until < meets_on]
    return sorted(available, key=fairness)


def free_presenters(tx: Tx, reading: ReadingSession, skip: set[int]) -> list[Member]:
    """The rotation for ``reading``, fairest first, less who already presents in it or is
    skipped."""
    taken = {s.presenter_id for s in slots_of(tx.session, reading.id or 0)} | skip
    meets_on = reading.meets_at.astimezone(tx.zone).date()
    return [m for m in rotation_order(tx, meets_on) if m.id not in taken]


def join(tx: Tx, text: str) -> Reply:
    me = tx.me
    if me.in_rotation:
        return Reply.tell(Notice(tx.tr("rotation.already_in")))
    me.in_rotation = True
    me.joined_rotation_at = me.joined_rotation_at or tx.now
    tx.session.add(me)
    return Reply.announce(Notice(tx.tr("rotation.joined", name=me.display_name)))


def leave(tx: Tx, text: str) -> Reply:
    me = tx.me
    if not me.in_rotation:
        return Reply.tell(Notice(tx.tr("rotation.not_in")))
    me.in_rotation = False
    tx.session.add(me)
    return Reply.announce(Notice(tx.tr("rotation.left", name=me.display_name)))


def away(tx: Tx, text: str) -> Reply:
    words = args.at_most(text, 1)
    if not words:
        raise UserError("args.missing_date")
    until = args.day(words[0])
    today = tx.now.astimezone(tx.zone).date()
    if until < today:
        raise UserError("rotation.away_past", date=until.isoformat())
    me = tx.me
    me.away_until = until
    tx.session.add(me)
    lines = [tx.tr("rotation.away", date=until.isoformat())]
    reading = current_session(tx, required=False)
    if reading is not None and reading.meets_at.astimezone(tx.zone).date() <= until:
        for slot in slots_of(tx.session, reading.id or 0):
            if slot.presenter_id == me.id:
                lines.append(tx.tr("rotation.away_still_presenting", number=slot.number))
    return Reply.tell(Notice("\n".join(lines)))


def back(tx: Tx, text: str) -> Reply:
    me = tx.me
    me.away_until = None
    tx.session.add(me)
    return Reply.tell(Notice(tx.tr("rotation.back")))


def presenters(tx: Tx, text: str) -> Reply:
    reading = current_session(tx, required=False)
    today = tx.now.astimezone(tx.zone).date()
    meets_on = reading.meets_at.astimezone(tx.zone).date() if reading else today
    queue = [m.display_name for m in rotation_order(tx, meets_on)]
    away_members = tx.session.exec(
        select(Member).where(
            Member.group_id == tx.bound_group.id,
            col(Member.in_rotation).is_(True),
            col(Member.away_until).is_not(None),
        )
    ).all()
    lines = [
        tx.tr(
            "rotation.queue",
            names=tx.tr("render.separator").join(queue) if queue else tx.tr("rotation.empty"),
        )
    ]
    lines += [
        tx.tr("rotation.away_line", name=m.display_name, date=m.away_until.isoformat())
        for m in away_members
        if m.away_until and m.away_until >= meets_on
    ]
    queue_notice = Notice(
        tx.tr("rotation.title"), title=tx.tr("rotation.title"), lines=tuple(lines)
    )
    if reading is None:
        return Reply.tell(Notice(tx.tr("session.none_yet")), queue_notice)
    plan = agenda(tx.session, tx.bound_group, reading, public_url=tx.public_url)
    return Reply.tell(plan, queue_notice)


def take(tx: Tx, text: str) -> Reply:
    words = args.at_most(text, 1)
    reading = current_session(tx)
    slot = slot_by_number(tx, reading, args.number(words[0] if words else None))
    me = tx.me
    if slot.presenter_id == me.id:
        return Reply.tell(Notice(tx.tr("slot.already_yours", number=slot.number)))
    if slot.presenter_id is not None:
        holder = tx.session.get(Member, slot.presenter_id)
        name = holder.display_name if holder else "?"
        raise UserError("slot.taken", number=slot.number, name=name, show_usage=False)
    slot.presenter_id = me.id
    tx.session.add(slot)
    return _changed(
        tx, reading, Notice(tx.tr("slot.took", name=me.display_name, number=slot.number))
    )


def drop(tx: Tx, text: str) -> Reply:
    words = args.at_most(text, 1)
    reading = current_session(tx)
    slot = slot_by_number(tx, reading, args.number(words[0] if words else None))
    me = tx.me
    if slot.presenter_id != me.id:
        raise UserError("slot.not_yours", number=slot.number, show_usage=False)
    replacement = next(iter(free_presenters(tx, reading, skip={me.id or 0})), None)
    slot.presenter_id = replacement.id if replacement else None
    tx.session.add(slot)
    lines = [tx.tr("slot.dropped", name=me.display_name, number=slot.number)]
    if replacement is not None:
        lines.append(tx.tr("slot.reassigned", name=replacement.display_name, number=slot.number))
    else:
        lines.append(tx.tr("slot.now_open", number=slot.number))
    return _changed(tx, reading, Notice("\n".join(lines)))


def assign(tx: Tx, text: str) -> Reply:
    tx.require_organizer()
    words = args.at_most(text, 2)
    reading = current_session(tx)
    slot = slot_by_number(tx, reading, args.number(words[0] if words else None))
    member = resolve_member(tx, words[1] if len(words) > 1 else None)
    slot.presenter_id = member.id
    tx.session.add(slot)
    notice = Notice(tx.tr("slot.assigned", name=member.display_name, number=slot.number))
    return _changed(tx, reading, notice)


def swap(tx: Tx, text: str) -> Reply:
    tx.require_organizer()
    words = args.at_most(text, 2)
    reading = current_session(tx)
    first = slot_by_number(tx, reading, args.number(words[0] if words else None))
    second = slot_by_number(tx, reading, args.number(words[1] if len(words) > 1 else None))
    if first.id == second.id:
        raise UserError("slot.swap_same")
    first.presenter_id, second.presenter_id = second.presenter_id, first.presenter_id
    tx.session.add(first)
    tx.session.add(second)
    notice = Notice(tx.tr("slot.swapped", first=first.number, second=second.number))
    made = changed(tx, reading)  # (first: the agenda's event shows the new revision)
    plan = agenda(tx.session, tx.bound_group, reading, public_url=tx.public_url)
    return Reply(public=(notice, plan), session_changed=made)


def _changed(tx: Tx, reading: ReadingSession, *said: Message) -> Reply:
    """Announce a change of who presents: the session's calendar event shows it too."""
    return Reply(public=said, session_changed=changed(tx, reading))
