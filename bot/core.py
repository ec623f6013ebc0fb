"""The platform-neutral core: takes an ``Invocation``, runs its handler, returns a ``Reply``.

What a command announces is queued in the outbox inside the command's own transaction and sent
by ``bot.delivery`` right after it commits; a recorded request (``receive``) is marked done in
that same transaction, so a crash leaves either nothing or everything, never half.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session

from bot import cards, voting
from bot.args import shorten
from bot.cleaning import clean
from bot.clock import Clock
from bot.context import Invocation, Services, Tx
from bot.delivery import inbox, outbox
from bot.delivery.recorder import Recorder
from bot.delivery.worker import Delivery, Sent
from bot.drafting.worker import DraftWorker
from bot.errors import UserError
from bot.group_setup import ensure_member
from bot.i18n import DEFAULT_LOCALE, Translator, t
from bot.jobs import JobPermit, JobRunner
from bot.messages import Message, Notice, Problem, Reply
from bot.ports import ChatAdapter
from bot.registry import CommandSpec, Handler, resolve, spelling
from bot.threads import ThreadMessage
from bot.threads import store as threads
from bot.unit import DatabaseUnavailable, Unit
from storage.db import Database
from storage.queries import group_for_channel, member_by_user

log = logging.getLogger(__name__)
T = TypeVar("T")

RECEIVE_BUDGET = 2.5
"""Seconds a request may take to be recorded: it must be acknowledged within the platform's 3."""
REPLAY_EVERY = 30.0
"""Seconds between looks for requests a dead process left unfinished."""


class Received(enum.Enum):
    NEW = "new"
    """Recorded: acknowledge it, then run it."""
    REPEAT = "repeat"
    """Seen before (a retry, another replica's): acknowledge it and do nothing."""
    UNAVAILABLE = "unavailable"
    """Could not be recorded in time: tell the member it did not go through."""


@dataclass(frozen=True)
class _Ran:
    result: Any
    posts: list[int]


class Yomikai:
    """One instance serves every adapter and group; it holds no per-group state in memory."""

    def __init__(
        self,
        db: Database,
        services: Services,
        clock: Clock,
        send_lease: timedelta = outbox.LEASE,
    ) -> None:
        self.db = db
        self.clock = clock
        self.unit = Unit(db, clock)
        self.adapters: dict[str, ChatAdapter] = {}
        self.delivery = Delivery(self.unit, self.adapters, send_lease)
        self.jobs = JobRunner(self.unit, services, self.delivery)
        self.drafts: DraftWorker | None = None
        self.services = services
        self.on_schedule_change: Callable[[], Awaitable[None]] | None = None
        """Called after a group's setup or schedule changed (the scheduler reschedules)."""
        self.recorder = Recorder(self.unit, RECEIVE_BUDGET)
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []

    @property
    def services(self) -> Services:
        return self._services

    @services.setter
    def services(self, services: Services) -> None:
        """The paper sources and defaults; the jobs use the same ones."""
        self._services = services
        self.jobs.services = services
        drafter = services.drafter
        self.drafts = DraftWorker(self.unit, drafter) if drafter is not None else None
        self.jobs.after = self.drafts.wake if self.drafts is not None else None

    def connect(self, adapter: ChatAdapter) -> None:
        """Let the delivery worker and jobs reach groups on ``adapter.platform``."""
        self.adapters[adapter.platform] = adapter

    async def in_thread(self, step: Callable[[Session], T]) -> T:
        """Run ``step`` in one transaction on a worker thread (the loop never waits on SQL)."""
        return await self.unit.in_thread(step)

    # --- running in the background -------------------------------------------------------------

    async def start(self) -> None:
        """Resume what a dead process left: unsent posts, unfinished requests, stale ballots;
        then keep delivering in the background (until ``stop``)."""
        if self._background:
            return
        self._stop.clear()
        try:
            await self.delivery.redraw_ballots(self.clock.now() - timedelta(days=1))
            await self.replay_stale(every=True)
        except Exception:
            log.exception("resuming unfinished work failed; the background loop tries again")
        self._background = [
            asyncio.create_task(self.delivery.run(self._stop), name="delivery"),
            asyncio.create_task(self._replay_loop(), name="inbox replay"),
        ]
        if self.drafts is not None:
            self._background.append(
                asyncio.create_task(self.drafts.run(self._stop), name="drafting")
            )

    async def stop(self) -> None:
        self._stop.set()
        self.delivery.wake()
        if self.drafts is not None:
            self.drafts.wake()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background = []

    async def _replay_loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), REPLAY_EVERY)
            if not self._stop.is_set():
                try:
                    await self.replay_stale()
                except Exception:
                    log.exception("replaying unfinished requests failed")

    # --- the inbox -----------------------------------------------------------------------------

    async def receive(
        self,
        key: str,
        op: str | None = None,
        inv: Invocation | None = None,
        address: dict[str, str] | None = None,
        **args: Any,
    ) -> Received:
        """Record a request before it is acknowledged, quickly (``RECEIVE_BUDGET``).

        ``op`` (``command``, ``vote``, ``card``), ``inv`` and ``args`` say what to run again if
        this process dies before finishing it; ``address`` is how the adapter can answer then.
        Without ``op`` only the key is remembered (a repeat is recognised, nothing replayed).
        """
        now = self.clock.now()
        payload = None
        if op is not None and inv is not None:
            fields = asdict(replace(inv.cleaned(), request_key=""))
            args = _cleaned_args(args)
            payload = {"op": op, "inv": fields, "args": args, "address": address or {}}

        try:
            fresh = await self.recorder.record(key, payload, now)
        except Exception as error:
            log.warning("could not record request %s: %s", key, type(error).__name__)
            return Received.UNAVAILABLE
        return Received.NEW if fresh else Received.REPEAT

    async def replay_stale(self, *, every: bool = False) -> int:
        """Run the requests a dead process acknowledged but never finished; how many.

        ``every`` (at start): all pending ones, not only those whose lease ran out.
        """
        now = self.clock.now()
        stale = await self.unit.in_thread(lambda s: inbox.stale(s, now, every=every))
        for key, payload, attempts in stale:
            inv = replace(Invocation(**payload["inv"]), request_key=key)
            if attempts > inbox.MAX_ATTEMPTS:
                await self.unit.in_thread(partial(inbox.finish, key=key, state=inbox.FAILED))
                locale = await self.unit.run(partial(self._locale, inv))
                text = t(locale, "error.given_up", command=inv.command)
                reply = Reply(private=(Problem(text, locale=locale),), locale=locale)
            else:
                log.info("running again a request a stopped process left: %s", key)
                reply = await self.perform(inv, str(payload["op"]), dict(payload["args"]))
            adapter = self.adapters.get(inv.platform)
            if adapter is not None and payload.get("address") and (reply.private or reply.public):
                try:
                    await adapter.answer(dict(payload["address"]), reply)
                except Exception:
                    log.warning("could not answer the replayed request %s", key)
        return len(stale)

    async def perform(self, inv: Invocation, op: str, args: dict[str, Any]) -> Reply:
        """Run a recorded request: a command, a vote click or a card form."""
        if op == "vote":
            return await self.click_vote(inv, int(args["round_id"]), int(args["candidate_id"]))
        if op == "card":
            fields = {str(k): str(v) for k, v in dict(args["fields"]).items()}
            return await self.submit_card(inv, int(args["number"]), fields)
        return await self.handle(inv)

    # --- commands ------------------------------------------------------------------------------

    async def handle(self, inv: Invocation) -> Reply:
        """Run one command. Never raises: mistakes and failures come back as a ``Problem``."""
        spec: CommandSpec | None = None
        inv = inv.cleaned()
        try:
            spec, rest = resolve(inv.command, inv.text)
            if rest and not spec.args:
                raise UserError("args.extra_words", extra=shorten(rest))
            inv = replace(inv, text=rest)
            now = self.clock.now()
            if spec.prepare and spec.needs_group:  # (no need to ask arXiv for a stranger)
                await self._require_group(inv)
            prepared = await spec.prepare(self.services, inv, now) if spec.prepare else None
            ran = await self.unit.run(partial(self._run, spec, inv, spec.handler, prepared))
            if spec.read_only:  # nothing to lose: recorded as answered after the answer is made
                await self._finish(inv, inbox.DONE)
            if isinstance(ran.result, JobPermit) and spec.job:
                return await self._run_job(spec.job, ran.result, now, inv.request_key)
            reply = await self._delivered(ran)
            if self.drafts is not None and not spec.read_only:
                self.drafts.wake()  # a round closed or a card asked for its draft
            if spec.changes_schedule and self.on_schedule_change is not None:
                await self.on_schedule_change()
            return reply
        except UserError as error:
            return await self._mistake(inv, error, spec)
        except inbox.AlreadyDone:
            return Reply()  # the run that made the effect answers
        except Exception as error:
            return await self._failure(inv, error)

    async def submit_card(self, inv: Invocation, number: int, fields: dict[str, str]) -> Reply:
        """A filled card form (modal, console prompts): the same checks as ``/card n field: …``."""

        fields = {key: clean(value) for key, value in fields.items()}

        def step(tx: Tx, _text: str) -> Reply:
            return cards.save_card(tx, cards.editable_slot(tx, number), cards.check_fields(fields))

        return await self._act(inv.cleaned(), "card", step)

    async def click_vote(self, inv: Invocation, round_id: int, candidate_id: int) -> Reply:
        """A vote button (``vote:<round>:<candidate>``): toggles like ``/vote n``."""
        return await self._act(
            inv.cleaned(), "vote", partial(voting.vote_by_id, round_id, candidate_id)
        )

    async def thread_message(self, said: ThreadMessage) -> bool:
        """A message written in a thread: kept as a question when the thread is a paper's
        (``bot.threads``), never run as a command. True when it was kept now. Raises when the
        database cannot take it, so the platform may send it again."""
        at = self.clock.now()
        return await self.unit.in_thread(lambda s: threads.keep_question(s, said, at))

    async def ballot_post(self, round_id: int) -> outbox.BallotPost | None:
        """The posted candidate list of a round with fresh tallies (after ``round_changed``)."""
        return await self.unit.in_thread(
            lambda session: outbox.ballot_post(session, round_id), read_only=True
        )

    async def _run_job(self, job: str, permit: JobPermit, now: datetime, request: str) -> Reply:
        """``/yomikai poll|remind|meet``: the handler checked who asks; now run the job itself
        (the request is marked done in the job's own transaction)."""
        outcome = await self.jobs.run(permit.group_id, job, now, by_hand=True, request=request)
        if request:  # a poll that found no source changed nothing, and is done too
            await self.unit.in_thread(lambda s: inbox.finish(s, request))
        tr = Translator(permit.locale)
        if job == "poll" and outcome.unavailable:
            text = tr("jobs.poll_unavailable")
        elif job == "poll":
            key = "jobs.polled_read" if outcome.read else "jobs.polled"
            text = tr(key, count=outcome.found, source=outcome.source or "—", read=outcome.read)
        elif outcome.posts or outcome.dms:
            text = tr("jobs.done", posts=len(outcome.posts), dms=len(outcome.dms))
        else:
            text = tr(f"jobs.nothing_{job}")
        return Reply(private=(Notice(text),), locale=permit.locale)

    async def _act(self, inv: Invocation, path: str, step: Handler) -> Reply:
        """Run ``step`` as if it were the command ``path`` (its rules, usage and errors)."""
        spec, _ = resolve(path, "")
        try:
            ran = await self.unit.run(partial(self._run, spec, inv, step, None))
            return await self._delivered(ran)
        except UserError as error:
            return await self._mistake(inv, error, spec)
        except inbox.AlreadyDone:
            return Reply()
        except Exception as error:
            return await self._failure(inv, error)

    async def _require_group(self, inv: Invocation) -> None:
        def look(session: Session) -> bool:
            return group_for_channel(session, inv.platform, inv.channel_id) is not None

        if not await self.unit.in_thread(look, read_only=True):
            raise UserError("group.not_set_up", show_usage=False)

    async def _delivered(self, ran: _Ran) -> Reply:
        """Send what the command queued; a post the platform refused for good is explained."""
        reply = ran.result
        assert isinstance(reply, Reply)
        results = await self.delivery.flush(ran.posts)
        notes = _refusals(results, reply.locale or DEFAULT_LOCALE)
        return replace(reply, private=(*reply.private, *notes)) if notes else reply

    async def _mistake(self, inv: Invocation, error: UserError, spec: CommandSpec | None) -> Reply:
        await self._finish(inv, inbox.DONE)  # nothing changed, and nothing to run again
        locale = await self.unit.run(partial(self._locale, inv))
        return replace(Reply.tell(self._problem(locale, inv, error, spec)), locale=locale)

    async def _failure(self, inv: Invocation, error: Exception) -> Reply:
        """An unexpected error: logged with a reference the user can quote, never shown raw."""
        locale = await self.unit.run(partial(self._locale, inv))
        if isinstance(error, DatabaseUnavailable) and inv.request_key:
            # The request is recorded: it runs again when the database is back (replay_stale).
            log.warning("command %s waits for the database: %s", inv.command, error)
            return Reply(private=(Notice(t(locale, "error.kept")),), locale=locale)
        ref = uuid.uuid4().hex[:8]
        log.error("command %s failed (ref %s)", inv.command, ref, exc_info=error)
        await self._finish(inv, inbox.FAILED)
        problem = Problem(Translator(locale)("error.internal", ref=ref), locale=locale)
        return Reply(private=(problem,), locale=locale)

    async def _finish(self, inv: Invocation, state: str) -> None:
        if not inv.request_key:
            return
        try:
            await self.unit.in_thread(lambda s: inbox.finish(s, inv.request_key, state))
        except Exception:  # stays pending: run again later, and told then
            log.warning("could not mark request %s %s", inv.request_key, state)

    def _run(
        self, spec: CommandSpec, inv: Invocation, step: Callable[[Tx, str], Any], prepared: Any
    ) -> _Ran:
        """``step`` inside one transaction, with the invoker's group and member; what it
        announces is queued in the outbox and the request marked done in the same commit."""

        def command(session: Session) -> _Ran:
            if inv.request_key and not spec.job and not spec.read_only:
                inbox.take(session, inv.request_key)  # done with this commit, or not at all
            group = group_for_channel(session, inv.platform, inv.channel_id)
            if group is None and spec.needs_group:
                raise UserError("group.not_set_up", show_usage=False)
            now = self.clock.now()
            member = None
            if group is not None and spec.read_only:
                assert group.id is not None
                member = member_by_user(session, group.id, inv.user_id)
            elif group is not None:
                assert group.id is not None
                member = ensure_member(session, group.id, inv.user_id, inv.user_name, now)
            locale = group.locale if group else self.services.defaults.locale
            tr = Translator(locale, spelling(inv.organizer_command))
            tx = Tx(session, inv, group, member, now, tr, prepared, self.drafts is not None)
            tx.public_url = self.services.public_url
            result = step(tx, inv.text)
            posts: list[int] = []
            if isinstance(result, Reply):
                if result.locale is None:
                    result = replace(result, locale=tx.tr.locale)
                posts = self._queue(tx, result)
            return _Ran(result, posts)

        return self.unit.transact(command, read_only=spec.read_only)

    @staticmethod
    def _queue(tx: Tx, reply: Reply) -> list[int]:
        """Queue what the reply announces, in the command's transaction; the rows' ids."""
        if not reply.public and reply.session_changed is None:
            return []
        inv = tx.inv
        group = tx.group or group_for_channel(tx.session, inv.platform, inv.channel_id)
        if group is None or group.id is None:  # (setup makes the group during its step)
            return []
        prefix = f"req:{inv.request_key}" if inv.request_key else f"cmd:{uuid.uuid4().hex}"
        return outbox.queue(
            tx.session,
            group.id,
            prefix,
            tx.now,
            posts=reply.public,
            redraw=reply.round_changed,
            event=reply.session_changed,
        )

    async def locale(self, platform: str, channel_id: str) -> str:
        """The language of the group in that channel (the default one before there is one)."""
        return await self.unit.run(
            partial(self._locale, Invocation(platform, channel_id, "", "", ""))
        )

    def _locale(self, inv: Invocation) -> str:
        try:
            with self.db.session(read_only=True) as session:
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
        usage, example = spec.usage_in(tr), spec.example_in(tr)
        return Problem(text, usage=usage, example=example, locale=tr.locale)


def _cleaned_args(value: Any) -> Any:
    """A recorded request's arguments (card fields too) with their text cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {key: _cleaned_args(item) for key, item in value.items()}
    return value


def _refusals(results: list[Sent], locale: str) -> tuple[Message, ...]:
    keys = {r.error.notice_key for r in results if r.error is not None and r.error.notice_key}
    return tuple(Notice(t(locale, key)) for key in sorted(keys))
