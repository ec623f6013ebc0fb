"""The outbox: posts the bot makes on its own, claimed by key before sending so each goes once.

A key is deterministic (``1:open:2026-W49``, ``ballot:7``); the first process to insert it sends,
and the platform's message reference is stored so later edits happen in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.messages import CandidateList
from bot.views import candidate_list
from storage.models import Group, OutboxPost, Round
from storage.queries import insert_ignore


def ballot_key(round_id: int) -> str:
    return f"ballot:{round_id}"


def claim(session: Session, group_id: int, key: str, now: datetime) -> bool:
    """True for exactly one caller per key, across processes."""
    values = {"group_id": group_id, "key": key, "created_at": now}
    return insert_ignore(session, OutboxPost, values, ("key",)) is not None


def mark_sent(session: Session, key: str, ref: str | None, now: datetime) -> None:
    post = session.exec(select(OutboxPost).where(OutboxPost.key == key)).one()
    post.sent_at = now
    post.message_ref = ref
    session.add(post)


@dataclass(frozen=True)
class BallotPost:
    """Where a round's public candidate list was posted, and what it should show now."""

    platform: str
    channel_id: str
    ref: str
    ballot: CandidateList


def ballot_post(session: Session, round_id: int) -> BallotPost | None:
    post = session.exec(select(OutboxPost).where(OutboxPost.key == ballot_key(round_id))).first()
    round_ = session.get(Round, round_id)
    if post is None or post.message_ref is None or round_ is None:
        return None
    group = session.get(Group, round_.group_id)
    assert group is not None
    ballot = candidate_list(session, group, round_)
    return BallotPost(group.platform, group.channel_id, post.message_ref, ballot)
