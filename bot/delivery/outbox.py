"""The outbox: every post the bot makes is a row, written with the change it announces.

A row's key is deterministic (``ballot:7``, ``1:meet:2026-12-09T08:00Z:2``), so the same post
is never queued twice. ``lease`` hands a row to one sender at a time, across processes; a
sender that died leaves its lease to run out, and the next sender knows the post may already
be on the platform (``Leased.since``) and lets the adapter look before it posts again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot.delivery import codec
from bot.meeting.event import meeting_event
from bot.messages import CandidateList, Message, SummaryCard, ThreadOpening
from bot.views import candidate_list
from storage.models import Group, OutboxPost, ReadingSession, Round
from storage.queries import insert_ignore

LEASE = timedelta(seconds=15)
"""How long one sender holds a row: longer than a send may take (``worker.SEND_TIMEOUT``), so
no live sender loses it; when its sender died, the row is sent again this soon after."""
MAX_ATTEMPTS = 12
"""Attempts before a post is given up (with the backoff below: about an hour)."""

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
POST, DM, REDRAW, THREAD, EVENT = "post", "dm", "redraw", "thread", "event"
"""A post to the channel, a direct message, a ballot's redraw, a card's discussion thread
(started under the card's post: ``bot.threads``) and a session's platform calendar event."""


def ballot_key(round_id: int) -> str:
    return f"ballot:{round_id}"


def thread_key(slot_id: int) -> str:
    """A slot's thread is started once, however often its card is posted."""
    return f"thread:{slot_id}"


def enqueue(
    session: Session,
    group_id: int,
    key: str,
    message: Message | None,
    now: datetime,
    *,
    kind: str = POST,
    target: str = "",
) -> int | None:
    """Queue one post; the new row's id, or None when ``key`` was queued before."""
    values: dict[str, Any] = {
        "group_id": group_id,
        "key": key[:200],
        "token": uuid.uuid4().hex,
        "kind": kind,
        "target": target,
        "payload": _payload(message),
        "state": PENDING,
        "attempts": 0,
        "error": "",
        "created_at": now,
    }
    return insert_ignore(session, OutboxPost, values, ("key",))


def _payload(message: Message | None) -> dict[str, object] | None:
    """What a row keeps of its message; a ballot is drawn fresh when it is sent."""
    if message is None or isinstance(message, CandidateList):
        return None
    return codec.dump(message)


def queue(
    session: Session,
    group_id: int,
    prefix: str,
    now: datetime,
    *,
    posts: Sequence[Message] = (),
    dms: Sequence[tuple[str, Message]] = (),
    redraw: int | None = None,
    threads: Sequence[ThreadOpening] = (),
    event: int | None = None,
) -> list[int]:
    """Queue what one command or job run says, keyed under ``prefix``; the new rows' ids.

    A ballot is keyed by its round (``ballot:<round>``), so it is posted once and edited after.
    A thread follows the card post of its slot number (``threads``); ``event`` names a session
    whose calendar event is brought up to date after the posts.
    """
    ids = []
    card_keys: dict[int, str] = {}
    for number, message in enumerate(posts, 1):
        key = (
            ballot_key(message.round_id)
            if isinstance(message, CandidateList)
            else f"{prefix}:{number}"
        )
        if isinstance(message, SummaryCard):
            card_keys[message.number] = key
        ids.append(enqueue(session, group_id, key, message, now))
    for opening in threads:
        if opening.number in card_keys:
            opening = replace(opening, parent_key=card_keys[opening.number])
            key = thread_key(opening.slot_id)
            ids.append(enqueue(session, group_id, key, opening, now, kind=THREAD))
    for user_id, message in dms:
        key = f"{prefix}:dm:{user_id}"
        ids.append(enqueue(session, group_id, key, message, now, kind=DM, target=user_id))
    if redraw is not None:
        ids.append(enqueue_redraw(session, group_id, redraw, f"{prefix}:redraw", now))
    if event is not None:
        key = f"{prefix}:event:{event}"
        ids.append(enqueue(session, group_id, key, None, now, kind=EVENT, target=str(event)))
    return [post_id for post_id in ids if post_id is not None]


def enqueue_redraw(
    session: Session, group_id: int, round_id: int, key: str, now: datetime
) -> int | None:
    """Queue a redraw of round ``round_id``'s posted ballot (after it closed, say)."""
    return enqueue(session, group_id, key, None, now, kind=REDRAW, target=str(round_id))


@dataclass(frozen=True)
class Leased:
    """A post handed to this sender: where it goes, what it says, and whether it may be out."""

    id: int
    key: str
    kind: str
    platform: str
    channel_id: str
    target: str
    message: Message | None
    since: datetime | None
    """Set when an earlier attempt may have posted it: look on the platform from here on."""
    attempts: int
    token: str
    """What the platform is told to tell this post apart by (a nonce, Slack metadata)."""


def lease(
    session: Session,
    post_id: int,
    now: datetime,
    platforms: Collection[str],
    hold: timedelta = LEASE,
) -> Leased | None:
    """Take row ``post_id`` for this sender for ``hold``, or None: sent, someone else's, not
    due, or for a platform this sender does not serve (``platforms``; another process sends it)."""
    table = OutboxPost.__table__  # type: ignore[attr-defined]
    found = session.exec(
        select(OutboxPost, Group)
        .join(Group, col(Group.id) == col(OutboxPost.group_id))
        .where(OutboxPost.id == post_id)
    ).first()
    if found is None or found[1].platform not in platforms:
        return None
    post, group = found
    since = post.first_sent_at if post.attempts else None
    taken = session.execute(
        update(table)
        .where(
            table.c.id == post_id,
            or_(
                table.c.state == PENDING,
                (table.c.state == SENDING) & (table.c.lease_until < now),
            ),
            or_(table.c.due_at.is_(None), table.c.due_at <= now),
        )
        .values(
            state=SENDING,
            lease_until=now + hold,
            attempts=table.c.attempts + 1,
            first_sent_at=post.first_sent_at or now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        return None
    message: Message | None
    if post.kind == REDRAW:
        message = None
    elif post.kind == EVENT:  # drawn as the session stands when it is sent
        reading = session.get(ReadingSession, int(post.target))
        message = meeting_event(session, group, reading) if reading is not None else None
    elif post.key.startswith("ballot:"):
        message = _fresh_ballot(session, group, int(post.key.split(":")[1]))
    else:
        message = codec.load(post.payload or {})
    return Leased(
        post_id,
        post.key,
        post.kind,
        group.platform,
        group.channel_id,
        post.target,
        message,
        since,
        post.attempts + 1,
        post.token or f"{post.key}@{post.created_at.timestamp():.6f}",
    )


def _fresh_ballot(session: Session, group: Group, round_id: int) -> CandidateList | None:
    """A ballot is drawn as it stands when it is sent (a closed round shows no buttons)."""
    round_ = session.get(Round, round_id)
    return candidate_list(session, group, round_) if round_ is not None else None


def mark_sent(session: Session, post_id: int, ref: str | None, now: datetime) -> None:
    """Record row ``post_id`` sent (one statement: every post of a busy hour comes here)."""
    table = OutboxPost.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == post_id)
        .values(state=SENT, sent_at=now, message_ref=ref, lease_until=None, error="")
        .execution_options(synchronize_session=False)
    )


def mark_retry(session: Session, post_id: int, error: str, due_at: datetime) -> None:
    post = session.get(OutboxPost, post_id)
    assert post is not None
    post.state = FAILED if post.attempts >= MAX_ATTEMPTS else PENDING
    post.due_at, post.lease_until, post.error = due_at, None, error[:200]
    session.add(post)


def mark_failed(session: Session, post_id: int, error: str) -> None:
    post = session.get(OutboxPost, post_id)
    assert post is not None
    post.state, post.lease_until, post.error = FAILED, None, error[:200]
    session.add(post)


def unsent(session: Session, platforms: set[str], limit: int = 200) -> list[tuple[int, int]]:
    """(row id, group id) of posts not sent yet on these platforms, oldest first."""
    rows = session.exec(
        select(OutboxPost.id, OutboxPost.group_id)
        .join(Group, col(Group.id) == col(OutboxPost.group_id))
        .where(col(OutboxPost.state).in_((PENDING, SENDING)), col(Group.platform).in_(platforms))
        .order_by(col(OutboxPost.id))
        .limit(limit)
    ).all()
    return [(post_id or 0, group_id) for post_id, group_id in rows]


def state_of(session: Session, key: str) -> str | None:
    return session.exec(select(OutboxPost.state).where(OutboxPost.key == key)).first()


def sent_ref(session: Session, key: str) -> tuple[str, str | None] | None:
    """(state, message reference) of the post ``key``; None when there is no such post."""
    row = session.exec(
        select(OutboxPost.state, OutboxPost.message_ref).where(OutboxPost.key == key)
    ).first()
    return (row[0], row[1]) if row is not None else None


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


def open_ballots(session: Session, since: datetime) -> list[int]:
    """Rounds whose posted ballot may still change: open ones, and ones closed since ``since``."""
    rows = session.exec(
        select(Round.id).where(or_(col(Round.closed_at).is_(None), col(Round.closed_at) >= since))
    ).all()
    return [round_id for round_id in rows if round_id is not None]
