"""The platform-neutral core: takes an ``Invocation``, runs its handler, returns a ``Reply``."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, delete

from bot import cards, posts, voting
from bot.clock import Clock
from bot.context import Invocation, Services, Tx
from bot.errors import UserError
from bot.group_setup import ensure_member
from bot.i18n import DEFAULT_LOCALE, Translator
from bot.jobs import JobPermit, JobRunner
from bot.messages import Notice, Problem, Reply
from bot.ports import ChatAdapter
from bot.registry import CommandSpec, Handler, resolve, spelling
from storage.db import Database
from storage.models import Group, ReceivedRequest, Round
from storage.queries import group_for_channel, insert_ignore

log = logging.getLogger(__name__)
T = TypeVar("T")

REQUEST_MEMORY = timedelta(days=1)
"""How long a request's key is remembered; platforms resend within minutes."""
PRUNE_EVERY = timedelta(hours=1)
"""How often a process deletes forgotten request keys (not on every request: a hot path)."""
RETRIES = 3
"""A transaction that lost a race (unique key taken meanwhile, lock timeout) is run again."""


class Yomikai:
    """One instance serves every adapter and group; it holds no per-group state in memory."""

    def __init__(self, db: Database, services: Services, clock: Clock) -> None:
        self.db = db
        self.services = services
        self.clock = clock
        self.adapters: dict[str, ChatAdapter] = {}
        self.jobs = JobRunner(self)
        self.on_schedule_change: Callable[[], Awaitable[None]] | None = None
        """Called after a group's setup or schedule changed (the scheduler reschedules)."""
        self._pruned_at: datetime | None = None

    def connect(self, adapter: ChatAdapter) -> None:
        """Let scheduled jobs reach groups on ``adapter.platform``."""
        self.adapters[adapter.platform] = adapter

    async def in_thread(self, step: Callable[[Session], T]) -> T:
        """Run ``step`` in one transaction on a worker thread (the loop never waits on SQL)."""
        return await asyncio.to_thread(self._transact, step)

    def job_tx(self, session: Session, group_id: int, now: datetime) -> Tx:
        """A transaction context for a job: the group, no member (jobs act for nobody)."""
        group = session.get(Group, group_id)
        assert group is not None
        inv = Invocation(group.platform, group.channel_id, "", "Yomikai", "job")
        return Tx(session, inv, group, None, now, Translator(group.locale))

    async def handle(self, inv: Invocation) -> Reply:
        """Run one command. Never raises: mistakes and failures come back as a ``Problem``."""
        spec: CommandSpec | None = None
        try:
            spec, rest = resolve(inv.command, inv.text)
            inv = replace(inv, text=rest)
            now = self.clock.now()
            prepared = await spec.prepare(self.services, inv, now) if spec.prepare else None
            reply = await asyncio.to_thread(self._run, spec, inv, spec.handler, prepared)
            if isinstance(reply, JobPermit) and spec.job:
                return await self._run_job(spec.job, reply, now)
            assert isinstance(reply, Reply)
            if spec.changes_schedule and self.on_schedule_change is not None:
                await self.on_schedule_change()
            return reply
        except UserError as error:
            locale = await asyncio.to_thread(self._locale, inv)
            return replace(Reply.tell(self._problem(locale, inv, error, spec)), locale=locale)
        except Exception:
            return await self._failure(inv)

    async def _failure(self, inv: Invocation) -> Reply:
        """An unexpected error: logged with a reference the user can quote, never shown raw."""
        ref = uuid.uuid4().hex[:8]
        log.exception("command %s failed (ref %s)", inv.command, ref)
        locale = await asyncio.to_thread(self._locale, inv)
        problem = Problem(Translator(locale)("error.internal", ref=ref), locale=locale)
        return Reply(private=(problem,), locale=locale)

    async def submit_card(self, inv: Invocation, number: int, fields: dict[str, str]) -> Reply:
        """A filled card form (modal, console prompts): the same checks as ``/card n field: …``."""

        def step(tx: Tx, _text: str) -> Reply:
            return cards.save_card(tx, cards.editable_slot(tx, number), cards.check_fields(fields))

        return await self._act(inv, "card", step)

    async def click_vote(self, inv: Invocation, round_id: int, candidate_id: int) -> Reply:
        """A vote button (``vote:<round>:<candidate>``): toggles like ``/vote n``."""
        return await self._act(inv, "vote", partial(voting.vote_by_id, round_id, candidate_id))

    async def remember_ballot(self, round_id: int, ref: str) -> None:
        """Record where a round's public candidate list was posted, to redraw it in place."""

        now = self.clock.now()

        def record(session: Session) -> None:
            round_ = session.get(Round, round_id)
            assert round_ is not None
            key = posts.ballot_key(round_id)
            posts.claim(session, round_.group_id, key, now)
            posts.mark_sent(session, key, ref, now)

        await self.in_thread(record)

    async def first_delivery(self, key: str) -> bool:
        """True the first time any process sees ``key`` (a request a platform may resend)."""
        now = self.clock.now()

        def claim(session: Session) -> bool:
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                session.execute(
                    delete(ReceivedRequest).where(
                        col(ReceivedRequest.received_at) < now - REQUEST_MEMORY
                    )
                )
                self._pruned_at = now
            values = {"key": key[:200], "received_at": now}
            return insert_ignore(session, ReceivedRequest, values, ("key",)) is not None

        return await self.in_thread(claim)

    async def ballot_post(self, round_id: int) -> posts.BallotPost | None:
        """The posted candidate list of a round with fresh tallies (after ``round_changed``)."""
        return await self.in_thread(lambda session: posts.ballot_post(session, round_id))

    async def _run_job(self, job: str, permit: JobPermit, now: datetime) -> Reply:
        """``/yomikai poll|remind|meet``: the handler checked who asks; now run the job itself."""
        outcome = await self.jobs.run(permit.group_id, job, now, by_hand=True)
        tr = Translator(permit.locale)
        if job == "poll" and outcome.unavailable:
            text = tr("jobs.poll_unavailable")
        elif job == "poll":
            text = tr("jobs.polled", count=outcome.found, source=outcome.source or "—")
        elif outcome.posts or outcome.dms:
            text = tr("jobs.done", posts=len(outcome.posts), dms=len(outcome.dms))
        else:
            text = tr(f"jobs.nothing_{job}")
        return Reply(private=(Notice(text),), locale=permit.locale)

    async def _act(self, inv: Invocation, path: str, step: Handler) -> Reply:
        """Run ``step`` as if it were the command ``path`` (its rules, usage and errors)."""
        spec, _ = resolve(path, "")
        try:
            return await asyncio.to_thread(self._run, spec, inv, step, None)
        except UserError as error:
            locale = await asyncio.to_thread(self._locale, inv)
            return replace(Reply.tell(self._problem(locale, inv, error, spec)), locale=locale)
        except Exception:
            return await self._failure(inv)

    def _run(
        self, spec: CommandSpec, inv: Invocation, step: Callable[[Tx, str], T], prepared: Any
    ) -> T:
        """``step`` inside one transaction, with the invoker's group and member."""

        def command(session: Session) -> T:
            group = group_for_channel(session, inv.platform, inv.channel_id)
            if group is None and spec.needs_group:
                raise UserError("group.not_set_up", show_usage=False)
            now = self.clock.now()
            member = None
            if group is not None:
                assert group.id is not None
                member = ensure_member(session, group.id, inv.user_id, inv.user_name, now)
            locale = group.locale if group else self.services.defaults.locale
            tr = Translator(locale, spelling(inv.organizer_command))
            tx = Tx(session, inv, group, member, now, tr, prepared)
            result = step(tx, inv.text)
            if isinstance(result, Reply) and result.locale is None:
                return replace(result, locale=tx.tr.locale)  # type: ignore[return-value]
            return result

        return self._transact(command)

    def _transact(self, step: Callable[[Session], T]) -> T:
        """One transaction, run again when it lost a race (unique key taken, lock timeout)."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self.db.session() as session:
                    return step(session)
            except (IntegrityError, OperationalError):
                if attempt == RETRIES:
                    raise
                log.info("a transaction lost a race; retrying (%d)", attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _locale(self, inv: Invocation) -> str:
        try:
            with self.db.session() as session:
                group = group_for_channel(session, inv.platform, inv.channel_id)
                return group.locale if group else self.services.defaults.locale
        except Exception:  # the database itself may be what failed
            return DEFAULT_LOCALE

    @staticmethod
    def _problem(
        locale: str, inv: Invocation, error: UserError, spec: CommandSpec | None
    ) -> Problem:
        tr = Translator(locale, spelling(inv.organizer_command))
        text = tr(error.key, **error.params)
        if spec is None or not error.show_usage:
            return Problem(text, locale=tr.locale)
        usage, example = tr.spell(spec.usage), tr.spell(spec.example)
        return Problem(text, usage=usage, example=example, locale=tr.locale)
