"""The five scheduled jobs (poll, open, close, remind, meet) and how each runs exactly once.

A scheduled run first works out which due time it serves (``bot.schedule.latest_due``), and claims
the key ``<group>:<job>:<due>`` in ``job_run`` in the same transaction as its work and the posts
it queues: two processes, a restart or a late start within the grace period never run it twice,
and a process killed before that commit leaves the run to the next one (the catch-up at start).
What the run says goes out through ``bot.delivery``. Organizers run the same jobs by hand with
``/yomikai <job>``; those runs are not tied to a due time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import schedule
from bot.closing import close_round_now
from bot.context import Invocation, Services, Tx
from bot.delivery import inbox, outbox
from bot.delivery.worker import Delivery
from bot.errors import UserError
from bot.i18n import Translator
from bot.messages import DeckPost, Message, Notice, Reminder, ThreadOpening
from bot.sources import SourceUnavailable
from bot.sources.trending import TrendingPaper
from bot.unit import Unit
from bot.views import agenda, card_is_finished, summary_card
from bot.voting import open_round_now
from storage.models import Group, JobRun, Paper, PoolEntry, ReadingSession
from storage.queries import card_of, chosen_paper_ids, insert_ignore, sessions_of, slots_of

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
    read: int = 0
    """Trending papers the poll left out because the group chose them for a session already
    (presented or planned): an organizer who polls by hand is told how many."""
    unavailable: bool = False
    """The poll found no trending source that answered."""
    round_changed: int | None = None
    """A round whose posted ballot must be redrawn (closed: no more buttons)."""
    threads: list[ThreadOpening] = field(default_factory=list)
    """A discussion thread to start under each posted card (``bot.threads``)."""
    session_changed: int | None = None
    """A session whose calendar event must show it anew (made by the close)."""


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


def job_tx(
    session: Session,
    group: Group,
    now: datetime,
    *,
    drafting: bool = False,
    public_url: str = "",
) -> Tx:
    """A transaction context for a job: the group, no member (jobs act for nobody)."""
    inv = Invocation(group.platform, group.channel_id, "", "Yomikai", "job")
    tr = Translator(group.locale)
    return Tx(session, inv, group, None, now, tr, drafting=drafting, public_url=public_url)


def claim_run(session: Session, group_id: int, key: str, now: datetime) -> bool:
    """True for exactly one caller per run key, across processes (in the run's transaction)."""
    values = {"group_id": group_id, "key": key, "ran_at": now}
    return insert_ignore(session, JobRun, values, ("key",)) is not None


def run_key(group_id: int, job: str, due: datetime) -> str:
    return f"{group_id}:{job}:{due.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


class JobRunner:
    def __init__(self, unit: Unit, services: Services, delivery: Delivery) -> None:
        self.unit = unit
        self.services = services
        self.delivery = delivery
        self.after: Callable[[], None] | None = None
        """Called after a job's work committed (the core wakes its drafting worker)."""

    async def run_scheduled(self, group_id: int, job: str) -> None:
        """Run ``job`` for the due time it serves now, once across every process. Never raises."""
        now = self.unit.clock.now()

        def look(session: Session) -> tuple[Group | None, datetime | None, bool]:
            """The group, the due time this run serves, and whether that run happened."""
            group = session.get(Group, group_id)
            # (a session moved off the weekly meeting time is met at its own time)
            extra = schedule.off_rule_meetings(session, group) if group and job == "meet" else ()
            due = schedule.latest_due(group, job, now, GRACE, extra) if group else None
            return group, due, due is not None and _ran(session, run_key(group_id, job, due))

        try:
            group, due, ran = await self.unit.in_thread(look, read_only=True)
            if group is None or due is None or ran:
                return
            outcome = await self.run(
                group_id, job, due, claim=run_key(group_id, job, due), group=group
            )
            posted, dms = len(outcome.posts), len(outcome.dms)
            log.info("%s for group %d at %s: %d posts, %d DMs", job, group_id, due, posted, dms)
        except Exception:
            log.exception("job %s for group %d failed; the schedule goes on", job, group_id)

    async def run(
        self,
        group_id: int,
        job: str,
        due: datetime,
        *,
        by_hand: bool = False,
        claim: str | None = None,
        request: str = "",
        group: Group | None = None,
    ) -> Outcome:
        """Run ``job`` as due at ``due``, claiming ``claim`` with its work; deliver what it says.

        Run by hand, ``remind`` looks at the next session however far away it is; ``request``
        is the organizer's recorded request, marked done in the job's transaction; ``group``,
        when the caller has read it already.
        """
        if group is None:
            group = await self.unit.in_thread(lambda s: s.get(Group, group_id), read_only=True)
        if group is None:
            return Outcome()
        match job:
            case "poll":
                return await self._poll(group, due, claim, request)
            case "open":
                step: _Step = _open
            case "close":
                step = _close
            case "remind":
                step = partial(_remind, horizon=None if by_hand else REMIND_HORIZON)
            case "meet":
                step = partial(_meet, exact=not by_hand)
            case _:
                raise ValueError(f"unknown job {job!r}")
        now = self.unit.clock.now()
        prefix = claim or f"{group_id}:{job}:by-hand:{now.isoformat()}"

        def work(session: Session) -> tuple[Outcome, list[int]]:
            if request:
                inbox.take(session, request)
            if claim is not None and not claim_run(session, group_id, claim, now):
                return Outcome(), []  # another process ran it meanwhile
            fresh = session.get(Group, group_id)
            assert fresh is not None
            drafting = self.services.drafter is not None
            public_url = self.services.public_url
            tx = job_tx(session, fresh, due, drafting=drafting, public_url=public_url)
            outcome = step(tx, due)
            posts = outbox.queue(
                session,
                group_id,
                prefix,
                now,
                posts=outcome.posts,
                dms=outcome.dms,
                redraw=outcome.round_changed,
                threads=outcome.threads,
                event=outcome.session_changed,
            )
            return outcome, posts

        outcome, posts = await self.unit.in_thread(work)
        if posts and group.platform not in self.delivery.adapters:
            log.warning("no %s adapter runs here: group %d not told yet", group.platform, group_id)
        await self.delivery.flush(posts)
        if self.after is not None:
            self.after()
        return outcome

    async def _poll(self, group: Group, due: datetime, claim: str | None, request: str) -> Outcome:
        trending = self.services.trending
        group_id = group.id or 0
        if trending is None:
            return Outcome()
        today = due.astimezone(ZoneInfo(group.timezone)).date()  # the group's day, not UTC's
        try:
            source, papers = await trending.trending(today, group.categories.split())
        except SourceUnavailable as error:
            log.warning("poll for group %d: %s", group_id, error)
            return Outcome(unavailable=True)
        known, chosen = await self.unit.in_thread(
            lambda s: (_pooled_or_chosen(s, group_id), _chosen_here(s, group_id))
        )
        fresh = [p for p in papers if p.arxiv_id not in known]
        read = sum(1 for p in papers if p.arxiv_id in chosen)
        catalog = self.services.catalog
        await catalog.remember([p.metadata for p in fresh if p.metadata], due)
        ids = await catalog.ensure([p.arxiv_id for p in fresh], due)
        now = self.unit.clock.now()

        def add(session: Session) -> int:
            if request:
                inbox.take(session, request)
            if claim is not None and not claim_run(session, group_id, claim, now):
                return 0
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

        found = await self.unit.in_thread(add)
        log.info("poll for group %d: %d new papers from %s", group_id, found, source)
        return Outcome(found=found, source=source, read=read)


def _ran(session: Session, key: str) -> bool:
    return session.exec(select(JobRun.id).where(JobRun.key == key)).first() is not None


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
    return set(pooled) | _chosen_here(session, group_id)


def _chosen_here(session: Session, group_id: int) -> set[str]:
    """arXiv ids of the papers the group chose for a session (presented or planned)."""
    chosen = chosen_paper_ids(session, group_id)
    return set(session.exec(select(Paper.arxiv_id).where(col(Paper.id).in_(chosen))).all())


def _open(tx: Tx, due: datetime) -> Outcome:
    try:
        return Outcome(posts=list(open_round_now(tx).public))
    except UserError as nothing:  # a round already open, or nothing to vote on
        log.info("open for group %s: nothing to do (%s)", tx.bound_group.id, nothing.key)
        return Outcome()


def _close(tx: Tx, due: datetime) -> Outcome:
    try:
        reply = close_round_now(tx)
        return Outcome(
            posts=list(reply.public),
            round_changed=reply.round_changed,
            session_changed=reply.session_changed,
        )
    except UserError as nothing:
        log.info("close for group %s: nothing to do (%s)", tx.bound_group.id, nothing.key)
        return Outcome()


def _upcoming(tx: Tx, due: datetime, horizon: timedelta | None) -> ReadingSession | None:
    """The next session after ``due`` (within ``horizon``, when one is given); a cancelled
    session is never reminded of."""
    for reading in sessions_of(tx.session, tx.bound_group.id or 0, cancelled=False):
        if due < reading.meets_at and (horizon is None or reading.meets_at - due <= horizon):
            return reading
    return None


def _remind(tx: Tx, due: datetime, *, horizon: timedelta | None) -> Outcome:
    reading = _upcoming(tx, due, horizon)
    if reading is None or not slots_of(tx.session, reading.id or 0):
        return Outcome()
    group = tx.bound_group
    outcome = Outcome(posts=[agenda(tx.session, group, reading, public_url=tx.public_url)])
    for slot in slots_of(tx.session, reading.id or 0):
        card = card_of(tx.session, slot.id or 0)
        if slot.presenter_id is None or card_is_finished(card):
            continue
        view = summary_card(tx.session, group, reading, slot)
        presenter = view.presenter
        assert presenter is not None
        missing = view.missing
        reminder = Reminder(group.locale, slot.number, view.title, view.url, view.meets_at, missing)
        outcome.dms.append((presenter.user_id, reminder))
    return outcome


def _meet(tx: Tx, due: datetime, *, exact: bool = True) -> Outcome:
    """The cards of the session meeting at ``due`` (a scheduled run: exactly then, so a
    session moved to another time is met at that time, once; by hand: within twelve hours of
    now). A cancelled session is never met."""
    group = tx.bound_group
    live = sessions_of(tx.session, group.id or 0, cancelled=False)
    if exact:
        readings = [r for r in live if r.meets_at == due]
    else:
        readings = [r for r in live if abs(r.meets_at - due) <= MEET_WINDOW]
    if not readings:
        return Outcome()
    reading = readings[-1]
    outcome = Outcome()
    missing = []
    for slot in slots_of(tx.session, reading.id or 0):
        view = summary_card(tx.session, group, reading, slot)
        if all(field.value for field in view.fields):  # a draft not yet confirmed shows as one
            if group.threads:  # the presenter is mentioned there, not on the card
                view = replace(view, mentioned_in_thread=True)
                outcome.threads.append(ThreadOpening.of(view, slot.id or 0))
            outcome.posts.append(view)
        else:
            who = view.presenter.name if view.presenter else tx.tr("meet.nobody")
            missing.append(tx.tr("meet.missing_line", number=slot.number, name=who))
    if missing:
        title = tx.tr("meet.missing_title")
        outcome.posts.append(Notice(title, title=title, lines=tuple(missing)))
    if outcome.posts:  # and the session as a deck, once, with them (made when it is sent)
        meets_at = reading.meets_at.astimezone(tx.zone)
        outcome.posts.append(DeckPost(group.locale, reading.id or 0, "html", meets_at))
    return outcome
