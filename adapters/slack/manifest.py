"""The Slack app manifest, made from the command registry (commands, usage hints, descriptions).

``yomikai slack-manifest`` prints it; the shipped ``adapters/slack/manifest.yml`` is its output
(``tests/slack/test_manifest.py`` fails when the two differ), so a command added to the registry
reaches Slack without being written a second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adapters.slack.inbound import SLASH_COMMANDS
from bot.i18n import t
from bot.registry import COMMANDS, CommandSpec

SHIPPED = Path(__file__).with_name("manifest.yml")
PLACEHOLDER_URL = "https://yomikai.example.org/slack/events"
DESCRIPTION_LIMIT = 100
HINT_LIMIT = 100
SCOPES = {
    "commands": "the slash commands",
    "chat:write": "post ballots, agendas, cards; answer privately (chat.postEphemeral)",
    "chat:write.public": "post in public channels the bot was not invited to",
    "im:write": "reminders: open a direct message with a presenter (conversations.open)",
    "channels:history": "find a post that may have gone out before a crash; a card's questions",
    "groups:history": "the same in private channels",
    "im:history": "the same for reminders sent as direct messages",
    "files:write": "post a session's deck as a file (/yomikai export … html, files_upload_v2)",
}
BOT_EVENTS = ("message.channels", "message.groups")
"""Messages in public and private channels the bot is in: replies in a card's thread."""
DESCRIPTION = "Runs the weekly paper reading session (読み会) — nominate, vote, present."
HEADER = """\
# Yomikai's Slack app manifest: paste it at https://api.slack.com/apps → Create New App →
# From a manifest. {mode}
# Made from the command registry by `yomikai slack-manifest`; do not edit by hand.
"""
SOCKET = """This one is for Socket Mode (no public URL needed; the README's default).
# For HTTP mode: yomikai slack-manifest --http --url https://<your address>/slack/events"""
HTTP = "This one is for HTTP mode, with Slack's requests sent to the address it names."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hint(spec: CommandSpec) -> str:
    """``/nominate <arXiv id or URL> [why]`` → ``<arXiv id or URL> [why]``."""
    return spec.usage.removeprefix(f"/{spec.path}").strip()


def slash_commands(url: str = PLACEHOLDER_URL) -> list[dict[str, Any]]:
    """One entry per slash command: the headline commands, then ``/yomikai`` for the rest."""
    specs = {spec.path: spec for spec in COMMANDS}
    entries = []
    for command in SLASH_COMMANDS:
        name = command.lstrip("/")
        entry: dict[str, Any] = {"command": command, "url": url}
        if name in specs:
            entry["description"] = _sentence(t("en", specs[name].help_key))[:DESCRIPTION_LIMIT]
            hint = _hint(specs[name])
        else:  # /yomikai: members' subcommands as typed, then where organizers' begin
            subs = [s for s in COMMANDS if s.path.startswith(f"{name} ") and not s.organizer]
            words = [s.usage.removeprefix(f"/{name} ") for s in subs]
            entry["description"] = _sentence(t("en", "help.yomikai_group"))[:DESCRIPTION_LIMIT]
            hint = " | ".join([*words, "setup …"])
        if hint:
            entry["usage_hint"] = hint[: HINT_LIMIT - 1] + "…" if len(hint) > HINT_LIMIT else hint
        entry["should_escape"] = True
        entries.append(entry)
    return entries


def manifest(url: str = PLACEHOLDER_URL, *, socket_mode: bool = True) -> dict[str, Any]:
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Yomikai",
            "description": DESCRIPTION,
            "background_color": "#2c3e50",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Yomikai", "always_online": True},
            "slash_commands": slash_commands(url),
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            # A card's thread: members' replies there are kept as questions (never commands).
            "event_subscriptions": {
                "request_url": url,
                "bot_events": list(BOT_EVENTS),
            },
            "interactivity": {"is_enabled": True, "request_url": url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render(url: str = PLACEHOLDER_URL, *, socket_mode: bool = True) -> str:
    """The manifest as YAML, each scope with what it is for."""
    text = yaml.safe_dump(
        manifest(url, socket_mode=socket_mode), sort_keys=False, allow_unicode=True, width=1000
    )
    for scope, why in SCOPES.items():
        text = text.replace(f"    - {scope}\n", f"    - {scope} # {why}\n", 1)
    return HEADER.format(mode=SOCKET if socket_mode else HTTP) + text
