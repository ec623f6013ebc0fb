"""The platform-neutral core: takes an ``Invocation``, runs its handler, returns a ``Reply``."""

from __future__ import annotations

import asyncio
import logging
import uuid
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from bot import cards, posts, voting
from bot.clock import Clock
from bot.context import Invocation, Services, Tx
from bot.errors import UserError
from bot.group_setup import ensure_member
from bot.i18n import DEFAULT_LOCALE, Translator
from bot.messages import Problem, Reply
from bot.registry import CommandSpec, Handler, resolve
from storage.db import Database
from storage.models import Round
from storage.queries import group_for_channel

log = logging.getLogger(__name__)

RETRIES = 3
"""A transaction that lost a race (unique key taken meanwhile, lock timeout) is run again."""


class Yomikai:
    """One instance serves every adapter and group; it holds no per-group state in memory."""

    def __init__(self, db: Database, services: Services, clock: Clock) -> None:
        self.db = db
        self.services = services
        self.clock = clock

    async def handle(self, inv: Invocation) -> Reply:
        """Run one command. Never raises: mistakes and failures come back as a ``Problem``."""
        spec: CommandSpec | None = None
        try:
            spec, rest = resolve(inv.command, inv.text)
            inv = Invocation(**{**inv.__dict__, "text": rest})
            now = self.clock.now()
            prepared = await spec.prepare(self.services, inv, now) if spec.prepare else None
            return await asyncio.to_thread(self._run, spec, inv, spec.handler, prepared)
        except UserError as error:
            locale = await asyncio.to_thread(self._locale, inv)
            return Reply.tell(self._problem(locale, error, spec))
        except Exception:
            return await self._failure(inv)

    async def _failure(self, inv: Invocation) -> Reply:
        """An unexpected error: logged with a reference the user can quote, never shown raw."""
        ref = uuid.uuid4().hex[:8]
        log.exception("command %s failed (ref %s)", inv.command, ref)
        locale = await asyncio.to_thread(self._locale, inv)
        return Reply.tell(Problem(Translator(locale)("error.internal", ref=ref), locale=locale))

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

        def record() -> None:
            with self.db.session() as session:
                round_ = session.get(Round, round_id)
                assert round_ is not None
                key = posts.ballot_key(round_id)
                posts.claim(session, round_.group_id, key, self.clock.now())
                posts.mark_sent(session, key, ref, self.clock.now())

        await asyncio.to_thread(record)

    async def ballot_post(self, round_id: int) -> posts.BallotPost | None:
        """The posted candidate list of a round with fresh tallies (after ``round_changed``)."""

        def read() -> posts.BallotPost | None:
            with self.db.session() as session:
                return posts.ballot_post(session, round_id)

        return await asyncio.to_thread(read)

    async def _act(self, inv: Invocation, path: str, step: Handler) -> Reply:
        """Run ``step`` as if it were the command ``path`` (its rules, usage and errors)."""
        spec, _ = resolve(path, "")
        try:
            return await asyncio.to_thread(self._run, spec, inv, step, None)
        except UserError as error:
            locale = await asyncio.to_thread(self._locale, inv)
            return Reply.tell(self._problem(locale, error, spec))
        except Exception:
            return await self._failure(inv)

    def _run(self, spec: CommandSpec, inv: Invocation, step: Handler, prepared: Any) -> Reply:
        for attempt in range(1, RETRIES + 1):
            try:
                with self.db.session() as session:
                    group = group_for_channel(session, inv.platform, inv.channel_id)
                    if group is None and spec.needs_group:
                        raise UserError("group.not_set_up", show_usage=False)
                    now = self.clock.now()
                    member = None
                    if group is not None:
                        assert group.id is not None
                        member = ensure_member(session, group.id, inv.user_id, inv.user_name, now)
                    tx = Tx(
                        session=session,
                        inv=inv,
                        group=group,
                        member=member,
                        now=now,
                        tr=Translator(group.locale if group else self.services.defaults.locale),
                        prepared=prepared,
                    )
                    return step(tx, inv.text)
            except (IntegrityError, OperationalError):
                if attempt == RETRIES:
                    raise
                log.info("command %s lost a race; retrying (%d)", spec.path, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _locale(self, inv: Invocation) -> str:
        try:
            with self.db.session() as session:
                group = group_for_channel(session, inv.platform, inv.channel_id)
                return group.locale if group else self.services.defaults.locale
        except Exception:  # the database itself may be what failed
            return DEFAULT_LOCALE

    @staticmethod
    def _problem(locale: str, error: UserError, spec: CommandSpec | None) -> Problem:
        tr = Translator(locale)
        text = tr(error.key, **error.params)
        if spec is None or not error.show_usage:
            return Problem(text, locale=tr.locale)
        return Problem(text, usage=spec.usage, example=spec.example, locale=tr.locale)
