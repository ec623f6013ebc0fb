"""What each kind of interaction does: slash commands, vote clicks, card forms, autocomplete."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from adapters.discord import limits
from adapters.discord.components import (
    FORM_PARTS,
    form_view,
    parse_card_modal,
    submitted_values,
)
from adapters.discord.delivery import Responder
from adapters.discord.inbound import PLATFORM, invocation
from adapters.discord.limits import cut
from bot.context import Invocation
from bot.core import Yomikai
from bot.messages import Agenda, CandidateList, Problem, Reply
from bot.threads import ThreadMessage

log = logging.getLogger(__name__)

CHOICES_TTL = 5.0
"""Autocomplete asks on every keystroke; the slots or candidates of a channel are reused briefly."""


class Handlers:
    def __init__(self, core: Yomikai, responder: Responder) -> None:
        self.core = core
        self.responder = responder
        self.last_channel: dict[str, str] = {}
        """Member id → the channel they last used Yomikai in (where a closed DM falls back to)."""
        self._choices: dict[tuple[str, str], tuple[float, list[tuple[int, str]]]] = {}

    def invocation(
        self, interaction: discord.Interaction, command: str, text: str = ""
    ) -> Invocation:
        inv = invocation(interaction, command, text)
        if inv.channel_id and interaction.guild_id is not None:
            self.last_channel[inv.user_id] = inv.channel_id
        return inv

    async def thread_message(self, message: discord.Message) -> None:
        """Kept when it is written in a card's thread (every replica hears it: kept once)."""
        said = ThreadMessage(
            PLATFORM,
            str(message.channel.id),
            str(message.id),
            str(message.author.id),
            message.content,
            author_name=message.author.display_name,
        )
        try:
            await self.core.thread_message(said)
        except Exception:  # the gateway sends a message once: nothing to answer, say so
            log.exception("Discord: could not keep message %s of a thread", message.id)

    async def command(self, interaction: discord.Interaction, command: str, text: str) -> None:
        """A slash command: ``("yomikai", "take 3")`` as typed in the console."""
        inv = self.invocation(interaction, command, text)
        await self.responder.answer(interaction, inv)

    async def card(
        self, interaction: discord.Interaction, number: int, fields: dict[str, str]
    ) -> None:
        """``/card n`` opens the form; ``/card n method: …`` saves the typed fields directly."""
        if not fields:
            await self.command(interaction, "card", str(number))
            return
        inv = self.invocation(interaction, "card", str(number))
        args = {"number": number, "fields": fields}
        await self.responder.answer(interaction, inv, "card", args)

    async def vote_clicked(
        self, interaction: discord.Interaction, round_id: int, candidate_id: int
    ) -> None:
        inv = self.invocation(interaction, "vote")
        args = {"round_id": round_id, "candidate_id": candidate_id}
        await self.responder.answer(interaction, inv, "vote", args)

    async def card_form_clicked(
        self, interaction: discord.Interaction, number: int, part: str
    ) -> None:
        inv = self.invocation(interaction, "card", str(number))
        await self.responder.answer(interaction, inv, part=part)

    async def modal_submitted(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        parsed = parse_card_modal(str(data.get("custom_id", "")))
        if parsed is None:
            return
        number, part, locale = parsed
        values = submitted_values(list(data.get("components", [])))
        fields = {key: values[key] for key in FORM_PARTS[part] if key in values}
        inv = self.invocation(interaction, "card", str(number))

        def second_form(reply: Reply) -> discord.ui.View | None:
            if part != "fields" or any(isinstance(m, Problem) for m in reply.private):
                return None
            return form_view(locale, number, "extras")

        args = {"number": number, "fields": fields}
        await self.responder.answer(interaction, inv, "card", args, extra=second_form)

    # --- autocomplete ----------------------------------------------------------------------

    async def slot_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        """This session's slots, for ``/summary n``, ``/card n``, ``/yomikai take n`` …"""
        return _choices(await self._listing(interaction, "presenters"), current)

    async def candidate_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        """The open round's candidates, for ``/vote n``."""
        return _choices(await self._listing(interaction, "candidates"), current)

    async def _listing(
        self, interaction: discord.Interaction, command: str
    ) -> list[tuple[int, str]]:
        key = (str(interaction.channel_id), command)
        cached = self._choices.get(key)
        if cached is not None and time.monotonic() - cached[0] < CHOICES_TTL:
            return cached[1]
        try:
            reply = await self.core.handle(self.invocation(interaction, command))
        except Exception:  # the core never raises; autocomplete must never fail either
            log.exception("autocomplete for %s failed", command)
            return []
        items: list[tuple[int, str]] = []
        for message in reply.private:
            if isinstance(message, Agenda):
                items = [(slot.number, slot.title) for slot in message.slots]
            elif isinstance(message, CandidateList):
                items = [(line.number, line.title) for line in message.candidates]
        self._choices[key] = (time.monotonic(), items)
        return items


def _choices(items: Sequence[tuple[int, str]], current: str) -> list[app_commands.Choice[int]]:
    typed = current.strip().casefold()
    found = [
        app_commands.Choice(name=cut(f"{number}. {title}", limits.CHOICE_NAME), value=number)
        for number, title in items
        if not typed or str(number).startswith(typed) or typed in title.casefold()
    ]
    return found[: limits.CHOICES]
