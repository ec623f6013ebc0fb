"""Answering an interaction within Discord's three seconds, and where each message goes.

Discord sends each interaction to every gateway session of the bot, so with several replicas
each of them receives it: the first to record its id in the inbox (``Yomikai.receive``, with what
it asks, so a replica that dies before finishing leaves it to be run again) answers it, the
others leave it alone (a vote clicked once is counted once). One that cannot be recorded in time
is answered with "that did not go through, try again".

Quick work is answered directly: the first message is the interaction's response, the others
follow up. When the core takes longer than ``defer_after`` the interaction is deferred (an
ephemeral "thinking…"), which is resolved with the first private message or deleted, and the
rest follows up. Private messages are ephemeral; what a command announces in the channel was
posted by ``bot.delivery`` before the reply arrives here, so an answer with nothing private is an
ephemeral "thinking…" deleted at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import discord

from adapters.discord.components import CardModal
from adapters.discord.render import Outgoing, render
from bot.context import Invocation
from bot.core import Received, Yomikai
from bot.delivery.redraw import BallotRedraw
from bot.i18n import t
from bot.messages import CardForm, Message, Notice, Reply

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
        inv: Invocation,
        op: str = "command",
        args: dict[str, Any] | None = None,
        *,
        part: str = "fields",
        extra: Extra | None = None,
    ) -> None:
        """Record the request, run it (``Yomikai.perform`` never raises) and show its reply."""
        self._busy += 1
        self._idle.clear()
        try:
            started = asyncio.get_running_loop().time()
            key = f"discord:{interaction.id}"
            received = await self.core.receive(key, op, inv, None, **(args or {}))
            if received is Received.UNAVAILABLE:
                await self._not_recorded(interaction, inv)
            elif received is Received.NEW:
                waited = asyncio.get_running_loop().time() - started
                work = self.core.perform(replace(inv, request_key=key), op, args or {})
                await self._answer(
                    interaction, work, max(0.0, self.defer_after - waited), part, extra
                )
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def _answer(
        self,
        interaction: discord.Interaction,
        work: Awaitable[Reply],
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
        """Take ``interaction`` (autocomplete) for this replica; False when another one has.

        When the database cannot say, this replica answers: a suggestion list is harmless.
        """
        received = await self.core.receive(f"discord:{interaction.id}")
        return received is not Received.REPEAT

    async def _not_recorded(self, interaction: discord.Interaction, inv: Invocation) -> None:
        locale = interaction.locale.value if interaction.locale else ""
        text = t("ja" if locale.startswith("ja") else "en", "error.not_recorded")
        try:
            await interaction.response.send_message(
                **render(Notice(text)).send_kwargs(), ephemeral=True
            )
        except discord.HTTPException:  # another replica may have answered meanwhile
            log.info("could not tell %s their request did not go through", inv.user_id)

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
        queue = [(m, True, render(m)) for m in private]
        if view is not None and queue and queue[-1][2].view is None:
            queue[-1][2].view = view
        if deferred:
            await self._resolve_loading(interaction, queue)
        for _message, ephemeral, out in queue:
            await self._send(interaction, out, ephemeral)
        if not interaction.response.is_done():  # nothing private: the channel saw the post
            if interaction.type is discord.InteractionType.component:
                await interaction.response.defer()  # a click: nothing changes on screen
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
                await interaction.delete_original_response()

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
