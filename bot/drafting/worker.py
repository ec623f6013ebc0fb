"""Drafting in the background: cards marked ``pending`` are drafted, and no draft is lost.

A round's close (and ``/card n draft``) marks cards ``pending`` in its own transaction. This
worker leases them (``drafting`` until ``LEASE`` runs out, so a card a dead process was drafting
is taken up again), drafts several at once, and writes each draft into its card in one
transaction: only the parts no person has written (``bot.cards.apply_draft``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.cards import apply_draft
from bot.drafting.draft import DONE, DRAFTING, FAILED, PENDING, Draft, Hints, PaperFacts
from bot.drafting.drafter import Drafter
from bot.unit import Unit
from storage.models import Card, Group, Paper, PoolEntry, ReadingSession, Slot

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
AT_ONCE = 4
"""Cards drafted at the same time (the model client itself allows two requests at once)."""
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class _Job:
    card_id: int
    paper: Paper
    hints: Hints
    locale: str


class DraftWorker:
    def __init__(self, unit: Unit, drafter: Drafter) -> None:
        self.unit = unit
        self.drafter = drafter
        self._wake = asyncio.Event()
        self.drafted = 0
        """Cards drafted by this process (for logs and benchmarks)."""

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Draft what is pending until ``stop`` is set."""
        while not stop.is_set():
            try:
                while await self.pass_once():
                    pass
            except Exception:
                log.exception("drafting failed; trying again shortly")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def pass_once(self) -> int:
        """Lease up to ``AT_ONCE`` pending cards and draft them; how many were drafted."""
        now = self.unit.clock.now()
        jobs = await self.unit.in_thread(lambda s: _lease(s, now))
        if not jobs:
            return 0
        results = await asyncio.gather(*(self._draft(job) for job in jobs), return_exceptions=True)
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, BaseException):
                log.error("drafting card %d failed", job.card_id, exc_info=result)
        return sum(1 for r in results if r is True)

    async def _draft(self, job: _Job) -> bool:
        facts: PaperFacts = await self.drafter.facts(job.paper, job.hints)
        draft = await self.drafter.draft(facts, job.locale)
        now = self.unit.clock.now()
        await self.unit.in_thread(lambda s: _store(s, job, draft, now))
        self.drafted += 1
        return True


def _lease(session: Session, now: datetime) -> list[_Job]:
    cards = session.exec(
        select(Card)
        .where(
            or_(
                col(Card.draft_state) == PENDING,
                (col(Card.draft_state) == DRAFTING) & (col(Card.draft_lease_until) < now),
            )
        )
        .order_by(col(Card.id))
        .limit(AT_ONCE)
    ).all()
    jobs = []
    for card in cards:
        if card.draft_attempts >= MAX_ATTEMPTS:  # it failed every time: leave the card as it is
            card.draft_state = FAILED
            card.draft_notes = ["draft.note.failed"]
            session.add(card)
            continue
        slot = session.get(Slot, card.slot_id)
        reading = session.get(ReadingSession, slot.session_id) if slot else None
        group = session.get(Group, reading.group_id) if reading else None
        paper = session.get(Paper, slot.paper_id) if slot else None
        if slot is None or group is None or paper is None:
            continue
        card.draft_state = DRAFTING
        card.draft_lease_until = now + LEASE
        card.draft_attempts += 1
        session.add(card)
        entry = session.exec(
            select(PoolEntry).where(
                PoolEntry.group_id == group.id, PoolEntry.paper_id == slot.paper_id
            )
        ).first()
        hints = Hints.from_extras(entry.extras) if entry else Hints()
        session.expunge(paper)
        jobs.append(_Job(card.id or 0, paper, hints, group.locale))
    return jobs


def _store(session: Session, job: _Job, draft: Draft, now: datetime) -> None:
    card = session.get(Card, job.card_id)
    if card is None or card.draft_state != DRAFTING:
        return  # asked again meanwhile (``/card n draft``): that run writes it
    apply_draft(card, draft, job.locale)
    card.draft_state = DONE
    card.draft_lease_until = None
    card.draft_attempts = 0
    card.drafted_at = now
    session.add(card)
