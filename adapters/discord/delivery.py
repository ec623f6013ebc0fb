"""Answering an interaction within Discord's three seconds, and where each message goes.

Discord sends each interaction to every gateway session of the bot, so with several replicas
each of them receives it: the first to claim its id in the database answers it, the others leave
it alone (a vote clicked once is counted once).

Quick work is answered directly: the first message is the interaction's response, the others
follow up. When the core takes longer than ``defer_after`` the interaction is deferred (an
ephemeral "thinking…"), which is resolved with the first private message or deleted, and the
rest follows up. Private messages are ephemeral, public ones are seen by the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import discord

from adapters.discord.components import CardModal
from adapters.discord.render import Outgoing, render
from bot.core import Yomikai
from bot.messages import CandidateList, CardForm, Message, Reply
from bot.redraw import BallotRedraw

log = logging.getLogger(__name__)

Extra = Callable[[Reply], discord.ui.View | None]
"""Given the reply, a view to add to its last private message (the card's second form)."""


class Responder:
    def __init__(self, core: Yomikai, redraw: BallotRedraw, *, defer_after: float = 2.0) -> None:
        self.core = core
        self.redraw = redraw
        self.defer_after = defer_after
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every interaction being answered is answered (on shutdown, in tests)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def answer(
        self,
        interaction: discord.Interaction,
        work: Coroutine[Any, Any, Reply],
        *,
        part: str = "fields",
        extra: Extra | None = None,
    ) -> None:
        """Run ``work`` (a core call, which never raises) and show its reply."""
        self._busy += 1
        self._idle.clear()
        try:
            started = asyncio.get_running_loop().time()
            if await self.claim(interaction):
                waited = asyncio.get_running_loop().time() - started
                await self._answer(
                    interaction, work, max(0.0, self.defer_after - waited), part, extra
                )
            else:
                work.close()
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def _answer(
        self,
        interaction: discord.Interaction,
        work: Coroutine[Any, Any, Reply],
        defer_after: float,
        part: str,
        extra: Extra | None,
    ) -> None:
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=defer_after)
            deferred = not done
            if deferred:
                await interaction.response.defer(ephemeral=True, thinking=True)
            reply = await task
            view = extra(reply) if extra else None
            await self.deliver(interaction, reply, deferred=deferred, part=part, view=view)
        except Exception:  # an expired interaction, a refused message: logged, never fatal
            log.exception("could not answer Discord interaction %s", interaction.id)
        finally:
            if not task.done():  # the answer failed early; let the core finish its work anyway
                await asyncio.wait({task})
            if not task.cancelled() and task.exception() is None:
                changed = task.result().round_changed
                if changed is not None:  # even when the answer failed, the ballot shows the vote
                    self.redraw.request(changed)

    async def claim(self, interaction: discord.Interaction) -> bool:
        """Take ``interaction`` for this replica; False when another one already has."""
        try:
            return await self.core.first_delivery(f"discord:{interaction.id}")
        except Exception:  # the database is down: answer anyway; the core will say it failed
            log.exception("could not claim Discord interaction %s", interaction.id)
            return True

    async def deliver(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        *,
        deferred: bool = False,
        part: str = "fields",
        view: discord.ui.View | None = None,
    ) -> None:
        private: list[Message] = list(reply.private)
        form = next((m for m in private if isinstance(m, CardForm)), None)
        if form is not None and not interaction.response.is_done():
            # A form must be the very first answer, so it is only opened when nothing was deferred.
            await interaction.response.send_modal(CardModal(form, part, interaction.id))
            private.remove(form)
        queue = [(m, False, render(m)) for m in reply.public]
        queue += [(m, True, render(m)) for m in private]
        if view is not None:
            last = next((out for _, eph, out in reversed(queue) if eph), None)
            if last is not None and last.view is None:
                last.view = view
        if deferred:
            await self._resolve_loading(interaction, queue)
        for message, ephemeral, out in queue:
            ref = await self._send(interaction, out, ephemeral)
            if not ephemeral and isinstance(message, CandidateList) and ref is not None:
                await self.core.remember_ballot(message.round_id, str(ref))
        if not interaction.response.is_done():  # nothing to say (never expected): acknowledge
            await interaction.response.defer()

    async def _resolve_loading(
        self, interaction: discord.Interaction, queue: list[tuple[Message, bool, Outgoing]]
    ) -> None:
        """Replace the ephemeral "thinking…" with the first private message, or delete it.

        A follow-up sent while it is unresolved would take its place and be ephemeral too.
        """
        first = next((i for i, (_, ephemeral, _) in enumerate(queue) if ephemeral), None)
        if first is None:
            await interaction.delete_original_response()
            return
        _, _, out = queue.pop(first)
        await interaction.edit_original_response(**out.edit_kwargs())

    @staticmethod
    async def _send(interaction: discord.Interaction, out: Outgoing, ephemeral: bool) -> int | None:
        if not interaction.response.is_done():
            sent = await interaction.response.send_message(ephemeral=ephemeral, **out.send_kwargs())
            return sent.message_id
        message = await interaction.followup.send(
            ephemeral=ephemeral, wait=True, **out.send_kwargs()
        )
        return message.id
