"""Slash commands built from the core's registry: the headline commands, ``/yomikai …`` and
``/yomikai-admin …``.

Each registry entry becomes one command with typed, described options (Japanese descriptions
come from ``ja.toml`` through a translator). The option values are joined into the argument text
the console would type, so the core parses Discord exactly as it parses everything else.
Entries without a shape here (added to the registry later) take their arguments as one text.

Discord applies default permissions to top-level commands only, so organizers' subcommands
(``setup``, ``open``, ``close`` …) are listed under ``/yomikai-admin``, which members without
Manage Server do not see (a server admin can change who sees it under Server Settings →
Integrations). They reach the core as ``/yomikai …`` all the same, and the core still refuses
anyone who is not one of the group's organizers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from adapters.discord import limits
from adapters.discord.handlers import Handlers
from adapters.discord.inbound import ORGANIZER_COMMAND, arguments, mention
from adapters.discord.limits import cut
from bot.group_setup import MAX_CANDIDATES, MAX_PAPERS
from bot.i18n import t
from bot.registry import COMMANDS, HOME, CommandSpec

Number = app_commands.Range[int, 1, 999_999]
Papers = app_commands.Range[int, 1, MAX_PAPERS]
Candidates = app_commands.Range[int, 1, MAX_CANDIDATES]
Callback = Callable[..., Coroutine[Any, Any, None]]
Run = Callable[[discord.Interaction, str], Coroutine[Any, Any, None]]
GUILDS = app_commands.AppCommandContext(guild=True)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ZONES = sorted(available_timezones())


def ui_text(key: str, **refs: str) -> locale_str:
    """A catalog sentence for Discord's UI; ``refs`` name catalog keys filled in as parameters."""
    english = t("en", key, **{name: t("en", ref) for name, ref in refs.items()})
    return locale_str(cut(english, limits.COMMAND_DESCRIPTION), key=key, refs=refs)


class CatalogTranslator(app_commands.Translator):
    """Japanese names for descriptions and choices, from the same catalog as everything else."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if locale is not discord.Locale.japanese or not key:
            return None
        refs = string.extras.get("refs", {})
        sentence = t("ja", key, **{name: t("ja", ref) for name, ref in refs.items()})
        if string.extras.get("organizer"):
            sentence += " " + t("ja", "help.organizer_mark")
        return cut(sentence, limits.COMMAND_DESCRIPTION)


def install(tree: app_commands.CommandTree[Any], handlers: Handlers) -> None:
    members = app_commands.Group(
        name=HOME, description=ui_text("discord.group_description"), guild_only=True
    )
    organizers = app_commands.Group(
        name=ORGANIZER_COMMAND,
        description=ui_text("discord.admin_group_description"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    for spec in COMMANDS:
        head, _, sub = spec.path.partition(" ")
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=sub or head,
            description=_description(spec),
            callback=_callback(spec, handlers),
            allowed_contexts=None if sub else GUILDS,
        )
        if not sub:
            tree.add_command(command)
        elif spec.organizer:
            organizers.add_command(command)
        else:
            members.add_command(command)
    tree.add_command(members)
    tree.add_command(organizers)


def _description(spec: CommandSpec) -> locale_str:
    english = t("en", spec.help_key)
    if spec.organizer:
        english += " " + t("en", "help.organizer_mark")
    english = cut(english, limits.COMMAND_DESCRIPTION)
    return locale_str(english, key=spec.help_key, organizer=spec.organizer)


def _callback(spec: CommandSpec, handlers: Handlers) -> Callback:
    head, _, sub = spec.path.partition(" ")

    async def run(interaction: discord.Interaction, args: str) -> None:
        await handlers.command(interaction, head, f"{sub} {args}".strip() if sub else args)

    match spec.path:
        case "nominate":
            return _nominate(run)
        case "vote":
            return _number(run, "discord.opt_candidate", handlers.candidate_choices)
        case "summary":
            return _summary(run, handlers)
        case "card":
            return _card(handlers)
        case "yomikai take" | "yomikai drop":
            return _number(run, "discord.opt_slot", handlers.slot_choices)
        case "yomikai away":
            return _away(run)
        case "yomikai assign":
            return _assign(run, handlers)
        case "yomikai swap":
            return _swap(run, handlers)
        case "yomikai organizer":
            return _organizer(run)
        case "yomikai setup":
            return _setup(run)
        case "yomikai export":
            return _export(run)
    if spec.usage.strip() == f"/{spec.path}":
        return _plain(run)
    return _free(run)


def _plain(run: Run) -> Callback:
    async def plain(interaction: discord.Interaction) -> None:
        await run(interaction, "")

    return plain


def _free(run: Run) -> Callback:
    @app_commands.describe(text=ui_text("discord.opt_text"))
    async def free(interaction: discord.Interaction, text: str | None = None) -> None:
        await run(interaction, text or "")

    return free


def _nominate(run: Run) -> Callback:
    @app_commands.describe(paper=ui_text("discord.opt_paper"), why=ui_text("discord.opt_why"))
    async def nominate(
        interaction: discord.Interaction, paper: str, why: str | None = None
    ) -> None:
        # The reason is free text after the paper, exactly as typed (quotes are optional).
        await run(interaction, f"{paper.strip()} {why or ''}")

    return nominate


def _number(run: Run, describe: str, choices: Callable[..., Any]) -> Callback:
    @app_commands.describe(n=ui_text(describe))
    @app_commands.autocomplete(n=choices)
    async def numbered(interaction: discord.Interaction, n: Number) -> None:
        await run(interaction, arguments(n))

    return numbered


def _summary(run: Run, handlers: Handlers) -> Callback:
    @app_commands.describe(n=ui_text("discord.opt_slot"), date=ui_text("discord.opt_date"))
    @app_commands.autocomplete(n=handlers.slot_choices)
    async def summary(interaction: discord.Interaction, n: Number, date: str | None = None) -> None:
        await run(interaction, arguments(n, date))

    return summary


def _card(handlers: Handlers) -> Callback:
    field = "discord.opt_card_field"

    @app_commands.describe(
        n=ui_text("discord.opt_slot"),
        purpose=ui_text(field, field="card.purpose"),
        results=ui_text(field, field="card.results"),
        method=ui_text(field, field="card.method"),
        model=ui_text(field, field="card.model_name"),
        affiliations=ui_text(field, field="card.affiliations"),
        summary=ui_text(field, field="card.summary"),
        translation=ui_text(field, field="card.translated_title"),
    )
    @app_commands.autocomplete(n=handlers.slot_choices)
    async def card(
        interaction: discord.Interaction,
        n: Number,
        purpose: str | None = None,
        results: str | None = None,
        method: str | None = None,
        model: str | None = None,
        affiliations: str | None = None,
        summary: str | None = None,
        translation: str | None = None,
    ) -> None:
        given = {
            "purpose": purpose,
            "results": results,
            "method": method,
            "model_name": model,
            "affiliations": affiliations,
            "summary": summary,
            "translated_title": translation,
        }
        fields = {key: value for key, value in given.items() if value is not None}
        await handlers.card(interaction, n, fields)

    return card


def _away(run: Run) -> Callback:
    @app_commands.describe(date=ui_text("discord.opt_away"))
    async def away(interaction: discord.Interaction, date: str) -> None:
        await run(interaction, arguments(date))

    return away


def _assign(run: Run, handlers: Handlers) -> Callback:
    @app_commands.describe(n=ui_text("discord.opt_slot"), member=ui_text("discord.opt_member"))
    @app_commands.autocomplete(n=handlers.slot_choices)
    async def assign(interaction: discord.Interaction, n: Number, member: discord.User) -> None:
        await run(interaction, f"{arguments(n)} {mention(member)}")

    return assign


def _swap(run: Run, handlers: Handlers) -> Callback:
    @app_commands.describe(n=ui_text("discord.opt_slot"), m=ui_text("discord.opt_other_slot"))
    @app_commands.autocomplete(n=handlers.slot_choices, m=handlers.slot_choices)
    async def swap(interaction: discord.Interaction, n: Number, m: Number) -> None:
        await run(interaction, arguments(n, m))

    return swap


def _organizer(run: Run) -> Callback:
    @app_commands.describe(member=ui_text("discord.opt_member"))
    async def organizer(interaction: discord.Interaction, member: discord.User) -> None:
        await run(interaction, mention(member))

    return organizer


def _export(run: Run) -> Callback:
    @app_commands.describe(date=ui_text("discord.opt_date"))
    async def export(interaction: discord.Interaction, date: str | None = None) -> None:
        await run(interaction, arguments(date))

    return export


async def _zones(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    typed = current.strip().casefold().replace(" ", "_")
    found = [zone for zone in _ZONES if typed in zone.casefold()]
    return [Choice(name=zone, value=zone) for zone in found[: limits.CHOICES]]


def _setup(run: Run) -> Callback:
    @app_commands.describe(
        timezone=ui_text("discord.opt_timezone"),
        day=ui_text("discord.opt_day"),
        time=ui_text("discord.opt_time"),
        papers=ui_text("discord.opt_papers"),
        candidates=ui_text("discord.opt_candidates"),
        language=ui_text("discord.opt_language"),
    )
    @app_commands.choices(
        day=[Choice(name=ui_text(f"weekday.{day}"), value=day) for day in DAYS],
        language=[Choice(name=ui_text(f"language.{code}"), value=code) for code in ("en", "ja")],
    )
    @app_commands.autocomplete(timezone=_zones)
    async def setup(
        interaction: discord.Interaction,
        timezone: str | None = None,
        day: str | None = None,
        time: str | None = None,
        papers: Papers | None = None,
        candidates: Candidates | None = None,
        language: str | None = None,
    ) -> None:
        given = {
            "timezone": timezone,
            "day": day,
            "time": time,
            "papers": papers,
            "candidates": candidates,
            "language": language,
        }
        await run(interaction, " ".join(f"{k} {arguments(v)}" for k, v in given.items() if v))

    return setup
