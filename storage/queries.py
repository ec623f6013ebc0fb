"""Reusable queries, including the race-safe insert that makes votes and posts idempotent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from storage.models import (
    Card,
    Group,
    Member,
    Nomination,
    ReadingSession,
    Round,
    Slot,
)

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


def group_for_channel(session: Session, platform: str, channel_id: str) -> Group | None:
    return session.exec(
        select(Group).where(Group.platform == platform, Group.channel_id == channel_id)
    ).first()


def member_by_user(session: Session, group_id: int, user_id: str) -> Member | None:
    return session.exec(
        select(Member).where(Member.group_id == group_id, Member.user_id == user_id)
    ).first()


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


def next_session(session: Session, group_id: int, since: datetime) -> ReadingSession | None:
    """The group's first session meeting at ``since`` or later; else its latest one."""
    mine = select(ReadingSession).where(ReadingSession.group_id == group_id)
    ahead = session.exec(
        mine.where(col(ReadingSession.meets_at) >= since).order_by(col(ReadingSession.meets_at))
    ).first()
    return ahead or session.exec(mine.order_by(col(ReadingSession.meets_at).desc())).first()


def sessions_of(session: Session, group_id: int) -> list[ReadingSession]:
    return list(
        session.exec(
            select(ReadingSession)
            .where(ReadingSession.group_id == group_id)
            .order_by(col(ReadingSession.meets_at))
        )
    )


def slots_of(session: Session, session_id: int) -> list[Slot]:
    return list(
        session.exec(select(Slot).where(Slot.session_id == session_id).order_by(col(Slot.number)))
    )


def card_of(session: Session, slot_id: int) -> Card | None:
    return session.exec(select(Card).where(Card.slot_id == slot_id)).first()


def nomination_counts(session: Session, group_id: int) -> dict[int, int]:
    """Paper id → how many members nominated it in this group."""
    rows = session.exec(
        select(Nomination.paper_id, func.count())
        .where(Nomination.group_id == group_id)
        .group_by(col(Nomination.paper_id))
    )
    return {paper_id: count for paper_id, count in rows}


def chosen_paper_ids(session: Session, group_id: int) -> set[int]:
    """Papers already given a slot in one of the group's sessions."""
    rows = session.exec(
        select(Slot.paper_id)
        .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
        .where(ReadingSession.group_id == group_id)
    )
    return set(rows)
