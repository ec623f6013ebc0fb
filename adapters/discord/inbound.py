"""Discord interactions → the core's ``Invocation``: who, where, and the command as typed."""

from __future__ import annotations

import shlex

import discord

from bot.context import Invocation

PLATFORM = "discord"
ORGANIZER_COMMAND = "yomikai-admin"
"""Organizers' subcommands: a command of their own, which Discord can hide from members."""


def invocation(interaction: discord.Interaction, command: str, text: str = "") -> Invocation:
    """The command as the console would type it; ``text`` is the arguments (``take 3``)."""
    user = interaction.user
    return Invocation(
        platform=PLATFORM,
        channel_id=str(interaction.channel_id or ""),
        user_id=str(user.id),
        user_name=user.display_name,
        command=command,
        text=text.strip(),
        workspace_id=str(interaction.guild_id or ""),
        organizer_command=ORGANIZER_COMMAND,
    )


def mention(user: discord.abc.User) -> str:
    """A member picked in an option, as the core reads it: ``<@id|name>``, one shell word."""
    name = user.display_name.replace(">", "").strip()[:128] or str(user.id)
    return shlex.quote(f"<@{user.id}|{name}>")


def arguments(*parts: object) -> str:
    """Option values as argument text: left-out options dropped, spaces kept inside a word."""
    words = []
    for part in parts:
        if part is None or part == "":
            continue
        word = str(part).strip()
        words.append(word if word and word == shlex.quote(word) else shlex.quote(word))
    return " ".join(words)
