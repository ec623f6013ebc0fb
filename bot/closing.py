"""Closing a round: the top N papers become the next session's slots, presenters assigned."""

from __future__ import annotations

from bot.context import Tx
from bot.drafting.draft import PENDING
from bot.meeting.event import changed
from bot.messages import Reply
from bot.rotation import free_presenters
from bot.schedule import meeting_for
from bot.views import agenda
from bot.voting import ballots, current_round, ranked
from storage.models import Card, ReadingSession, Slot


def close_voting(tx: Tx, text: str) -> Reply:
    """Close the open round: the top N become the next session's slots, presenters assigned."""
    tx.require_organizer()
    return close_round_now(tx)


def close_round_now(tx: Tx) -> Reply:
    """Close the open round (the ``close`` job and ``/yomikai close`` both land here)."""
    group = tx.bound_group
    round_ = current_round(tx)
    round_.closed_at = tx.now
    tx.session.add(round_)
    meets_at = meeting_for(tx.session, group, tx.now)
    reading = ReadingSession(
        group_id=group.id or 0, round_id=round_.id or 0, meets_at=meets_at, created_at=tx.now
    )
    tx.session.add(reading)
    tx.session.flush()
    queue = iter(free_presenters(tx, reading, skip=set()))  # one each; then slots stay open
    for number, ballot in enumerate(ranked(ballots(tx, round_))[: group.papers_per_session], 1):
        presenter = next(queue, None)
        slot = Slot(
            session_id=reading.id or 0,
            number=number,
            paper_id=ballot.paper_id,
            presenter_id=presenter.id if presenter else None,
        )
        tx.session.add(slot)
        if tx.drafting:  # drafted in the background (bot.drafting.worker): the agenda goes now
            tx.session.flush()
            tx.session.add(Card(slot_id=slot.id or 0, updated_at=tx.now, draft_state=PENDING))
    tx.session.flush()
    made = changed(tx, reading)  # (first: the agenda's event shows this revision)
    return Reply(
        public=(agenda(tx.session, group, reading, public_url=tx.public_url),),
        round_changed=round_.id,
        session_changed=made,
    )
