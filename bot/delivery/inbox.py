"""The inbox: a request is recorded before it is acknowledged, and finished with its effect.

``receive`` writes the request's platform key and what it asks in one short transaction; a key
seen before is a repeat (a Slack retry, a Discord interaction every replica got). The command's
own transaction marks it ``done``, so the effect and the mark commit together. A request whose
process died holds a lease that runs out; ``stale`` hands it to whoever runs it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, delete, select

from storage.models import ReceivedRequest
from storage.queries import insert_ignore_many

LEASE = timedelta(seconds=90)
"""A request not finished this long after it was taken is run again by another process."""
MAX_ATTEMPTS = 3
"""A request that failed this many times is given up (the member is told)."""
MEMORY = timedelta(days=1)
"""How long a finished request's key is remembered; platforms resend within minutes."""

PENDING, DONE, FAILED = "pending", "done", "failed"


Request = tuple[str, dict[str, Any] | None, datetime]
"""A request to record: its key, what it asks (None: remember the key only), when it came."""


def receive(session: Session, requests: Sequence[Request]) -> list[bool]:
    """Record requests in one statement; for each, False when its key was recorded before
    (a repeat), or earlier in ``requests``."""
    rows = [
        {
            "key": key[:200],
            "received_at": now,
            "state": PENDING if payload is not None else DONE,
            "payload": payload,
            "attempts": 1,
            "lease_until": now + LEASE,
        }
        for key, payload, now in requests
    ]
    fresh = insert_ignore_many(session, ReceivedRequest, rows, ("key",), "key")
    answers = []
    for row in rows:
        answers.append(row["key"] in fresh)
        fresh.discard(row["key"])
    return answers


class AlreadyDone(Exception):
    """Another run of the same request (a replica, a replay) committed its effect first."""


def take(session: Session, key: str) -> None:
    """Mark a request done at the start of the transaction that makes its effect.

    Two runs of one request (a replay while the first is still going) serialize on this row:
    the second finds it done and raises ``AlreadyDone``, so its transaction changes nothing.
    """
    table = ReceivedRequest.__table__  # type: ignore[attr-defined]
    taken = session.execute(
        update(table)
        .where(table.c.key == key[:200], table.c.state == PENDING)
        .values(state=DONE, payload=None, lease_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        state = session.exec(
            select(ReceivedRequest.state).where(ReceivedRequest.key == key[:200])
        ).first()
        if state is not None:
            raise AlreadyDone(key)


def finish(session: Session, key: str, state: str = DONE) -> None:
    """Mark a request finished (in the transaction that made its effect)."""
    table = ReceivedRequest.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.key == key[:200])
        .values(state=state, payload=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def stale(
    session: Session, now: datetime, *, every: bool = False, limit: int = 100
) -> list[tuple[str, dict[str, Any], int]]:
    """Take pending requests whose lease ran out (``every``: all pending ones, as a process
    does at start): (key, payload, attempts), oldest first. Running one that is still being
    run elsewhere is safe (``take``): only one of the two makes its effect."""
    table = ReceivedRequest.__table__  # type: ignore[attr-defined]
    cutoff = now + LEASE + LEASE if every else now
    rows = session.exec(
        select(ReceivedRequest)
        .where(ReceivedRequest.state == PENDING, col(ReceivedRequest.lease_until) < cutoff)
        .order_by(col(ReceivedRequest.id))
        .limit(limit)
    ).all()
    taken = []
    for row in rows:
        claimed = session.execute(
            update(table)
            .where(table.c.id == row.id, table.c.state == PENDING, table.c.lease_until < cutoff)
            .values(lease_until=now + LEASE, attempts=table.c.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed == 1 and row.payload is not None:
            taken.append((row.key, dict(row.payload), row.attempts + 1))
    return taken


def forget(session: Session, now: datetime) -> None:
    """Delete finished requests older than ``MEMORY`` (pending ones are kept until run)."""
    session.execute(
        delete(ReceivedRequest).where(
            col(ReceivedRequest.received_at) < now - MEMORY,
            or_(col(ReceivedRequest.state) != PENDING, col(ReceivedRequest.payload).is_(None)),
        )
    )
