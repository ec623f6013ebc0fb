"""Reusable queries, including the race-safe insert that makes votes and posts idempotent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, func
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from storage.models import (
    Card,
    Group,
    Member,
    Nomination,
    Paper,
    PaperThread,
    ReadingSession,
    Round,
    Slot,
)
from storage.types import as_utc

T = TypeVar("T", bound=SQLModel)


def insert_ignore(
    session: Session, model: type[T], values: Mapping[str, Any], conflict: Sequence[str]
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING … RETURNING id: the new row's key, or None if it existed.

    Two processes racing to insert the same row both succeed at the SQL level and exactly one
    gets an id back, which is what decides who acts (vote counted, post sent).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(next(iter(table.primary_key.columns)))
    )
    return session.execute(stmt).scalar_one_or_none()


def insert_ignore_many(
    session: Session,
    model: type[T],
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: str,
) -> set[Any]:
    """``insert_ignore`` for many rows in one statement: the ``returning`` column of the rows
    that were new (a row whose conflict key existed, or came earlier in ``rows``, is not)."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[returning])
    )
    return set(session.execute(stmt).scalars())


# Every command reads these: made once, with parameters, rather than built on each call
# (building a statement and its cache key costs about as much as running it on SQLite).
_GROUP_FOR_CHANNEL = select(Group).where(
    Group.platform == bindparam("platform"), Group.channel_id == bindparam("channel_id")
)
_MEMBER_BY_USER = select(Member).where(
    Member.group_id == bindparam("group_id"), Member.user_id == bindparam("user_id")
)


def group_for_channel(session: Session, platform: str, channel_id: str) -> Group | None:
    params = {"platform": platform, "channel_id": channel_id}
    return session.exec(_GROUP_FOR_CHANNEL, params=params).first()


def member_by_user(session: Session, group_id: int, user_id: str) -> Member | None:
    return session.exec(_MEMBER_BY_USER, params={"group_id": group_id, "user_id": user_id}).first()


def member_by_name(session: Session, group_id: int, name: str) -> Member | None:
    return session.exec(
        select(Member).where(
            Member.group_id == group_id, func.lower(Member.display_name) == name.lower()
        )
    ).first()


def open_round(session: Session, group_id: int) -> Round | None:
    return session.exec(
        select(Round).where(Round.group_id == group_id, col(Round.closed_at).is_(None))
    ).first()


_LIVE_SESSIONS = select(ReadingSession).where(
    ReadingSession.group_id == bindparam("group_id"), col(ReadingSession.cancelled_at).is_(None)
)
_SESSION_AHEAD = (
    _LIVE_SESSIONS.where(col(ReadingSession.meets_at) >= bindparam("since"))
    .order_by(col(ReadingSession.meets_at))
    .limit(1)
)
_LATEST_SESSION = _LIVE_SESSIONS.order_by(col(ReadingSession.meets_at).desc()).limit(1)


def next_session(session: Session, group_id: int, since: datetime) -> ReadingSession | None:
    """The group's first session meeting at ``since`` or later; else its latest one. A
    cancelled session is neither (``/yomikai cancel``)."""
    ahead = session.exec(_SESSION_AHEAD, params={"group_id": group_id, "since": since}).first()
    return ahead or session.exec(_LATEST_SESSION, params={"group_id": group_id}).first()


def sessions_of(session: Session, group_id: int, *, cancelled: bool = True) -> list[ReadingSession]:
    """The group's sessions by meeting time; without the cancelled ones if ``cancelled`` is
    False (what reminders, meet posts and the rotation count)."""
    query = select(ReadingSession).where(ReadingSession.group_id == group_id)
    if not cancelled:
        query = query.where(col(ReadingSession.cancelled_at).is_(None))
    return list(session.exec(query.order_by(col(ReadingSession.meets_at))))


_SESSIONS_BETWEEN = (
    select(ReadingSession)
    .where(
        ReadingSession.group_id == bindparam("group_id"),
        col(ReadingSession.meets_at) >= bindparam("start"),
        col(ReadingSession.meets_at) < bindparam("end"),
    )
    .order_by(col(ReadingSession.meets_at))
)


def sessions_between(
    session: Session, group_id: int, start: datetime, end: datetime
) -> list[ReadingSession]:
    """The group's sessions meeting from ``start`` until before ``end``, cancelled ones too."""
    params = {"group_id": group_id, "start": start, "end": end}
    return list(session.exec(_SESSIONS_BETWEEN, params=params))


def slots_of(session: Session, session_id: int) -> list[Slot]:
    return list(
        session.exec(select(Slot).where(Slot.session_id == session_id).order_by(col(Slot.number)))
    )


def card_of(session: Session, slot_id: int) -> Card | None:
    return session.exec(select(Card).where(Card.slot_id == slot_id)).first()


@dataclass(frozen=True)
class SlotParts:
    """A slot and what its card shows: the paper, the card, the presenter and the thread."""

    slot: Slot
    paper: Paper
    card: Card | None
    presenter: Member | None
    thread: PaperThread | None


_SLOT_PARTS = (
    sql_select(Slot, Paper, Card, Member, PaperThread)  # (sqlmodel's select takes four)
    .join(Paper, col(Paper.id) == col(Slot.paper_id))
    .outerjoin(Card, col(Card.slot_id) == col(Slot.id))
    .outerjoin(Member, col(Member.id) == col(Slot.presenter_id))
    .outerjoin(PaperThread, col(PaperThread.slot_id) == col(Slot.id))
)
_PARTS_BY_ID = _SLOT_PARTS.where(col(Slot.id) == bindparam("slot_id"))
_PARTS_BY_NUMBER = _SLOT_PARTS.where(
    col(Slot.session_id) == bindparam("session_id"), col(Slot.number) == bindparam("number")
)


def slot_parts(session: Session, slot_id: int) -> SlotParts:
    """A slot with its paper, card, presenter and thread, read together (one query, not
    four: a summary card shows them all)."""
    return SlotParts(*session.execute(_PARTS_BY_ID, {"slot_id": slot_id}).one())


def numbered_slot_parts(session: Session, session_id: int, number: int) -> SlotParts | None:
    """Slot ``number`` of a session with its paper, card, presenter and thread (one query)."""
    params = {"session_id": session_id, "number": number}
    found = session.execute(_PARTS_BY_NUMBER, params).first()
    return SlotParts(*found) if found is not None else None


def nomination_counts(session: Session, group_id: int) -> dict[int, int]:
    """Paper id → how many members nominated it in this group."""
    rows = session.exec(
        select(Nomination.paper_id, func.count())
        .where(Nomination.group_id == group_id)
        .group_by(col(Nomination.paper_id))
    )
    return {paper_id: count for paper_id, count in rows}


def chosen_paper_ids(session: Session, group_id: int) -> set[int]:
    """Papers already given a slot in one of the group's sessions (a cancelled session's
    papers are not: they go back to the pool)."""
    rows = session.exec(
        select(Slot.paper_id)
        .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
        .where(ReadingSession.group_id == group_id, col(ReadingSession.cancelled_at).is_(None))
    )
    return set(rows)


def presentation_counts(
    session: Session, group_id: int, *, before: datetime | None = None
) -> dict[int, tuple[int, datetime | None]]:
    """Member id → (slots they present, the latest of those meetings): what the rotation's
    fairness counts (``bot.rotation``; a cancelled session's slots are nobody's);
    ``before``: only meetings that started by then."""
    query = (
        select(Slot.presenter_id, func.count(), func.max(ReadingSession.meets_at))
        .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
        .where(
            ReadingSession.group_id == group_id,
            col(Slot.presenter_id).is_not(None),
            col(ReadingSession.cancelled_at).is_(None),
        )
        .group_by(col(Slot.presenter_id))
    )
    if before is not None:
        query = query.where(col(ReadingSession.meets_at) <= before)
    return {
        member_id: (count, as_utc(last))
        for member_id, count, last in session.exec(query)
        if member_id is not None
    }


@dataclass(frozen=True)
class Presentation:
    """A paper's latest reading in a group: the session that met, and who presented it."""

    paper_id: int
    meets_at: datetime
    chosen_at: datetime
    """When that session was made (its round closed): nominations before it are spent."""
    presenter: Member | None


def presented_papers(
    session: Session, group_id: int, now: datetime, paper_ids: Sequence[int] | None = None
) -> dict[int, Presentation]:
    """Paper id → its latest presentation: a slot of the group's session that met by ``now``
    (a meeting that started counts, as it is being read; a cancelled one never met); of
    ``paper_ids`` only, when given."""
    query = (
        select(Slot, ReadingSession)
        .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
        .where(
            ReadingSession.group_id == group_id,
            col(ReadingSession.meets_at) <= now,
            col(ReadingSession.cancelled_at).is_(None),
        )
        .order_by(col(ReadingSession.meets_at), col(Slot.number))
    )
    if paper_ids is not None:
        query = query.where(col(Slot.paper_id).in_(paper_ids))
    rows = session.exec(query)
    found: dict[int, Presentation] = {}
    for slot, reading in rows:
        presenter = session.get(Member, slot.presenter_id) if slot.presenter_id else None
        found[slot.paper_id] = Presentation(
            slot.paper_id, reading.meets_at, reading.created_at, presenter
        )
    return found


def planned_paper_ids(session: Session, group_id: int, now: datetime) -> set[int]:
    """Papers in a slot of one of the group's sessions still to meet after ``now`` (and not
    cancelled)."""
    rows = session.exec(
        select(Slot.paper_id)
        .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
        .where(
            ReadingSession.group_id == group_id,
            col(ReadingSession.meets_at) > now,
            col(ReadingSession.cancelled_at).is_(None),
        )
    )
    return set(rows)


def nominated_again(
    session: Session, group_id: int, presented: Mapping[int, Presentation]
) -> dict[int, bool]:
    """Presented papers nominated again since they were read → whether an organizer is among
    those nominations (then the paper is offered on a ballot again)."""
    if not presented:
        return {}
    rows = session.exec(
        select(Nomination.paper_id, Nomination.created_at, Member.is_organizer)
        .join(Member, col(Member.id) == col(Nomination.member_id))
        .where(Nomination.group_id == group_id, col(Nomination.paper_id).in_(presented))
    )
    again: dict[int, bool] = {}
    for paper_id, created_at, organizer in rows:
        if created_at > presented[paper_id].chosen_at:  # (not one of its spent nominations)
            again[paper_id] = again.get(paper_id, False) or organizer
    return again


def put_back(session: Session, group_id: int, presented: Mapping[int, Presentation]) -> set[int]:
    """Presented papers an organizer nominated again since: offered on a ballot again."""
    return {
        p for p, organizer in nominated_again(session, group_id, presented).items() if organizer
    }


class NoSuchGroup(LookupError):
    """A command line could not tell which group is meant; the message says why."""


def find_group(session: Session, channel: str | None) -> Group:
    """The group of ``channel``; without one, the only group (``yomikai calendar``,
    ``yomikai export``)."""
    groups = list(session.exec(select(Group).order_by(col(Group.id))))
    if channel is not None:
        groups = [g for g in groups if g.channel_id == channel]
        if not groups:
            raise NoSuchGroup(f"no reading group in channel {channel}")
    if not groups:
        raise NoSuchGroup("there is no reading group yet (/yomikai setup makes one)")
    if len(groups) > 1:
        listed = ", ".join(
            f"{g.platform}:{g.channel_id}" + (f" ({g.name})" if g.name else "") for g in groups
        )
        raise NoSuchGroup(f"there are {len(groups)} groups; choose one with --channel: {listed}")
    return groups[0]
