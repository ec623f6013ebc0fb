"""Slash commands built from the core's registry: the headline commands, ``/yomikai …`` and
``/yomikai-admin …``.

Each registry entry becomes one command whose options are its ``args`` (``bot.registry.Arg``:
type, limits, choices, suggestions, description), nothing written here a second time; Japanese
descriptions come from ``ja.toml`` through a translator. The option values are joined into the
argument text the console would type, so the core parses Discord exactly as it parses
everything else.

Discord applies default permissions to top-level commands only, so organizers' subcommands
(``setup``, ``open``, ``close`` …) are listed under ``/yomikai-admin``, which members without
Manage Server do not see (a server admin can change who sees it under Server Settings →
Integrations). They reach the core as ``/yomikai …`` all the same, and the core still refuses
anyone who is not one of the group's organizers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from adapters.discord import limits
from adapters.discord.handlers import Handlers
from adapters.discord.inbound import ORGANIZER_COMMAND, arguments, mention
from adapters.discord.limits import cut
from bot.i18n import t
from bot.registry import COMMANDS, HOME, Arg, CommandSpec
from bot.timezones import zones

Callback = Callable[..., Coroutine[Any, Any, None]]
GUILDS = app_commands.AppCommandContext(guild=True)
_ZONES = zones()


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
    """A callback whose parameters are the spec's arguments (``bot.registry.Arg``): discord.py
    reads the options from its signature, their descriptions, choices and suggestions from the
    decorators applied here."""
    head, _, sub = spec.path.partition(" ")

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        # Card fields typed as options are saved as they are, never parsed out of a text.
        fields = {a.field: values[a.name] for a in spec.args if a.field and values.get(a.name)}
        if fields:
            await handlers.card(interaction, int(values["n"]), fields)
            return
        text = _text(spec.args, values)
        await handlers.command(interaction, head, f"{sub} {text}".strip() if sub else text)

    callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("interaction", POSITIONAL, annotation=discord.Interaction)]
        + [_parameter(arg) for arg in spec.args]
    )
    described = {arg.name: _describe(arg) for arg in spec.args}
    decorated: Callback = app_commands.describe(**described)(callback) if described else callback
    suggestions = {a.name: _suggest(a, handlers) for a in spec.args if a.suggest}
    if suggestions:
        decorated = app_commands.autocomplete(**suggestions)(decorated)
    choices = {
        a.name: [Choice(name=ui_text(key), value=value) for key, value in a.choices]
        for a in spec.args
        if a.choices
    }
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    return decorated


POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _parameter(arg: Arg) -> inspect.Parameter:
    kind: Any = {
        "number": app_commands.Range[int, arg.low, arg.high],
        "member": discord.User,
    }.get(arg.kind, str)
    if arg.required:
        return inspect.Parameter(arg.name, POSITIONAL, annotation=kind)
    return inspect.Parameter(arg.name, POSITIONAL, annotation=kind | None, default=None)


def _describe(arg: Arg) -> locale_str:
    return (
        ui_text(arg.describe, field=arg.describe_ref) if arg.describe_ref else ui_text(arg.describe)
    )


def _suggest(arg: Arg, handlers: Handlers) -> Callable[..., Any]:
    return {"slots": handlers.slot_choices, "candidates": handlers.candidate_choices}.get(
        arg.suggest or "", _zones
    )


def _text(args: tuple[Arg, ...], values: dict[str, Any]) -> str:
    """Option values as the argument text the console would type."""
    words = []
    for arg in args:
        value = values.get(arg.name)
        if value is None or value == "" or arg.joined == "field":
            continue
        if isinstance(value, discord.abc.User):
            words.append(mention(value))
        elif arg.joined == "rest":  # free text after the rest, exactly as typed
            words.append(str(value).strip())
        elif arg.joined == "keyword":
            words.append(f"{arg.name} {arguments(value)}")
        else:
            words.append(arguments(value))
    return " ".join(word for word in words if word)


async def _zones(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    typed = current.strip().casefold().replace(" ", "_")
    found = [zone for zone in _ZONES if typed in zone.casefold()]
    return [Choice(name=zone, value=zone) for zone in found[: limits.CHOICES]]
