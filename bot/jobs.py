"""The five scheduled jobs (poll, open, close, remind, meet) and how each posts exactly once.

A scheduled run first works out which due time it serves (``bot.schedule.latest_due``), claims
the key ``<group>:<job>:<due>`` in the outbox, and only the claimant goes on: two processes, a
restart or a late start within the grace period never post twice. Organizers run the same jobs
by hand with ``/yomikai <job>``; those runs are not tied to a due time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import posts, schedule
from bot.context import Tx
from bot.errors import UserError
from bot.messages import CARD_FIELDS, CandidateList, Message, Notice, Reminder
from bot.sources import SourceUnavailable
from bot.sources.trending import TrendingPaper
from bot.views import agenda, card_is_finished, summary_card
from storage.models import Group, Paper, PoolEntry, ReadingSession
from storage.queries import card_of, chosen_paper_ids, insert_ignore, sessions_of, slots_of

if TYPE_CHECKING:
    from bot.core import Yomikai

log = logging.getLogger(__name__)

GRACE = timedelta(hours=1)
"""A job still runs this long after its due time (a bot restarted at 10:40 opens the 10:00
round); later than that it is skipped (a bot started on Wednesday opens no stale Monday round)."""
REMIND_HORIZON = timedelta(days=7)
MEET_WINDOW = timedelta(hours=12)


@dataclass
class Outcome:
    """What one run of a job did, for logs and for the organizer who ran it by hand."""

    posts: list[Message] = field(default_factory=list)
    dms: list[tuple[str, Reminder]] = field(default_factory=list)
    found: int = 0
    source: str = ""
    unavailable: bool = False
    """The poll found no trending source that answered."""
    round_changed: int | None = None
    """A round whose posted ballot must be redrawn (closed: no more buttons)."""


_Step = Callable[[Tx, datetime], Outcome]


@dataclass(frozen=True)
class JobPermit:
    """An organizer may run a job in this group now (what the job command's handler returns)."""

    group_id: int
    locale: str


def permit(tx: Tx, _text: str) -> JobPermit:
    """The handler of ``/yomikai poll|remind|meet``: checks the caller; the core runs the job."""
    tx.require_organizer()
    return JobPermit(tx.bound_group.id or 0, tx.bound_group.locale)


class JobRunner:
    def __init__(self, core: Yomikai) -> None:
        self.core = core

    async def run_scheduled(self, group_id: int, job: str) -> None:
        """Run ``job`` for the due time it serves now, once across every process. Never raises."""
        now = self.core.clock.now()
        try:
            group = await self.core.in_thread(lambda s: s.get(Group, group_id))
            due = schedule.latest_due(group, job, now, GRACE) if group else None
            if group is None or due is None:
                return
            key = f"{group_id}:{job}:{due.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
            claimed = await self.core.in_thread(lambda s: posts.claim(s, group_id, key, now))
            if not claimed:
                return
            outcome = await self.run(group_id, job, due)
            posted, dms = len(outcome.posts), len(outcome.dms)
            log.info("%s for group %d at %s: %d posts, %d DMs", job, group_id, due, posted, dms)
        except Exception:
            log.exception("job %s for group %d failed; the schedule goes on", job, group_id)

    async def run(
        self, group_id: int, job: str, due: datetime, *, by_hand: bool = False
    ) -> Outcome:
        """Run ``job`` as due at ``due`` and deliver what it has to say.

        Run by hand, ``remind`` looks at the next session however far away it is.
        """
        group = await self.core.in_thread(lambda s: s.get(Group, group_id))
        if group is None:
            return Outcome()
        match job:
            case "poll":
                return await self._poll(group, due)
            case "open":
                outcome = await self._step(group_id, due, _open)
            case "close":
                outcome = await self._step(group_id, due, _close)
            case "remind":
                horizon = None if by_hand else REMIND_HORIZON
                outcome = await self._step(group_id, due, partial(_remind, horizon=horizon))
            case "meet":
                outcome = await self._step(group_id, due, _meet)
            case _:
                raise ValueError(f"unknown job {job!r}")
        await self._deliver(group, outcome)
        return outcome

    async def _step(self, group_id: int, due: datetime, step: _Step) -> Outcome:
        return await self.core.in_thread(lambda s: step(self.core.job_tx(s, group_id, due), due))

    async def _deliver(self, group: Group, outcome: Outcome) -> None:
        group_id = group.id
        adapter = self.core.adapters.get(group.platform)
        if adapter is None:
            if outcome.posts or outcome.dms:
                log.warning("no %s adapter runs here: group %d not told", group.platform, group_id)
            return
        for message in outcome.posts:
            ref = await adapter.post(group.channel_id, message)
            if isinstance(message, CandidateList):
                await self.core.remember_ballot(message.round_id, ref)
        if outcome.round_changed is not None:
            post = await self.core.ballot_post(outcome.round_changed)
            if post is not None:
                await adapter.update(post.channel_id, post.ref, post.ballot)
        for user_id, reminder in outcome.dms:
            if await adapter.dm(user_id, reminder, fallback_channel_id=group.channel_id) is None:
                log.info("group %d: could not DM %s a reminder", group_id, user_id)

    async def _poll(self, group: Group, due: datetime) -> Outcome:
        trending = self.core.services.trending
        group_id = group.id or 0
        if trending is None:
            return Outcome()
        today = due.astimezone(ZoneInfo(group.timezone)).date()  # the group's day, not UTC's
        try:
            source, papers = await trending.trending(today, group.categories.split())
        except SourceUnavailable as error:
            log.warning("poll for group %d: %s", group_id, error)
            return Outcome(unavailable=True)
        known = await self.core.in_thread(lambda s: _pooled_or_chosen(s, group_id))
        fresh = [p for p in papers if p.arxiv_id not in known]
        catalog = self.core.services.catalog
        await catalog.remember([p.metadata for p in fresh if p.metadata], due)
        ids = await catalog.ensure([p.arxiv_id for p in fresh], due)

        def add(session: Session) -> int:
            added = 0
            for paper in (p for p in fresh if p.arxiv_id in ids):
                values = {
                    "group_id": group_id,
                    "paper_id": ids[paper.arxiv_id],
                    "score": paper.score,
                    "source": source,
                    "extras": _extras(paper),
                    "added_at": due,
                }
                if insert_ignore(session, PoolEntry, values, ("group_id", "paper_id")) is not None:
                    added += 1
            return added

        found = await self.core.in_thread(add)
        log.info("poll for group %d: %d new papers from %s", group_id, found, source)
        return Outcome(found=found, source=source)


def _extras(paper: TrendingPaper) -> dict[str, object]:
    """What the trending source said beyond metadata, kept for the ballot and the cards."""
    extras = {
        "upvotes": paper.upvotes,
        "num_comments": paper.num_comments,
        "github_repo": paper.github_repo,
        "ai_summary": paper.ai_summary,
        "ai_keywords": list(paper.ai_keywords),
        "organizations": list(paper.organizations),
    }
    return {key: value for key, value in extras.items() if value not in (None, [])}


def _pooled_or_chosen(session: Session, group_id: int) -> set[str]:
    """arXiv ids a poll must not add again: already in the pool, or already read."""
    pooled = session.exec(
        select(Paper.arxiv_id)
        .join(PoolEntry, col(PoolEntry.paper_id) == col(Paper.id))
        .where(PoolEntry.group_id == group_id)
    ).all()
    chosen = chosen_paper_ids(session, group_id)
    read = session.exec(select(Paper.arxiv_id).where(col(Paper.id).in_(chosen))).all()
    return set(pooled) | set(read)


def _open(tx: Tx, due: datetime) -> Outcome:
    from bot.voting import open_round_now

    try:
        return Outcome(posts=list(open_round_now(tx).public))
    except UserError as nothing:  # a round already open, or nothing to vote on
        log.info("open for group %s: nothing to do (%s)", tx.bound_group.id, nothing.key)
        return Outcome()


def _close(tx: Tx, due: datetime) -> Outcome:
    from bot.closing import close_round_now

    try:
        reply = close_round_now(tx)
        return Outcome(posts=list(reply.public), round_changed=reply.round_changed)
    except UserError as nothing:
        log.info("close for group %s: nothing to do (%s)", tx.bound_group.id, nothing.key)
        return Outcome()


def _upcoming(tx: Tx, due: datetime, horizon: timedelta | None) -> ReadingSession | None:
    """The next session after ``due`` (within ``horizon``, when one is given)."""
    for reading in sessions_of(tx.session, tx.bound_group.id or 0):
        if due < reading.meets_at and (horizon is None or reading.meets_at - due <= horizon):
            return reading
    return None


def _remind(tx: Tx, due: datetime, *, horizon: timedelta | None) -> Outcome:
    reading = _upcoming(tx, due, horizon)
    if reading is None or not slots_of(tx.session, reading.id or 0):
        return Outcome()
    group = tx.bound_group
    outcome = Outcome(posts=[agenda(tx.session, group, reading)])
    for slot in slots_of(tx.session, reading.id or 0):
        card = card_of(tx.session, slot.id or 0)
        if slot.presenter_id is None or card_is_finished(card):
            continue
        view = summary_card(tx.session, group, reading, slot)
        presenter = view.presenter
        assert presenter is not None
        missing = tuple(key for key in CARD_FIELDS if not (card and getattr(card, key).strip()))
        reminder = Reminder(group.locale, slot.number, view.title, view.url, view.meets_at, missing)
        outcome.dms.append((presenter.user_id, reminder))
    return outcome


def _meet(tx: Tx, due: datetime) -> Outcome:
    group = tx.bound_group
    readings = [
        r for r in sessions_of(tx.session, group.id or 0) if abs(r.meets_at - due) <= MEET_WINDOW
    ]
    if not readings:
        return Outcome()
    reading = readings[-1]
    outcome = Outcome()
    missing = []
    for slot in slots_of(tx.session, reading.id or 0):
        view = summary_card(tx.session, group, reading, slot)
        if view.finished:
            outcome.posts.append(view)
        else:
            who = view.presenter.name if view.presenter else tx.tr("meet.nobody")
            missing.append(tx.tr("meet.missing_line", number=slot.number, name=who))
    if missing:
        title = tx.tr("meet.missing_title")
        outcome.posts.append(Notice(title, title=title, lines=tuple(missing)))
    return outcome
