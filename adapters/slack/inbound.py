"""Slack payloads → core invocations; vote button ids; recognising a request Slack sent again."""

from __future__ import annotations

import re
from typing import Any

from bot.context import Invocation
from bot.messages import VOTE_ID, parse_vote_id
from bot.registry import HEADLINE
from bot.threads import ThreadMessage

PLATFORM = "slack"
SLASH_COMMANDS = tuple(f"/{name}" for name in (*HEADLINE, "yomikai"))
VOTE_ACTION = re.compile(rf"^{VOTE_ID}$")


def command_invocation(command: dict[str, Any]) -> Invocation:
    """A slash command's form fields (``user_name``; mentions arrive as ``<@U123|name>``)."""
    return Invocation(
        platform=PLATFORM,
        channel_id=str(command.get("channel_id", "")),
        user_id=str(command.get("user_id", "")),
        user_name=str(command.get("user_name", "")),
        command=str(command.get("command", "")).lstrip("/"),
        text=str(command.get("text", "")),
        workspace_id=str(command.get("team_id", "")),
    )


def _user(body: dict[str, Any]) -> tuple[str, str, str]:
    user = body.get("user") or {}
    name = user.get("username") or user.get("name") or ""
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return str(user.get("id", "")), str(name), str(team)


def interaction_invocation(body: dict[str, Any], command: str, channel_id: str) -> Invocation:
    """A button click or modal submission, acting as ``command`` in ``channel_id``."""
    user_id, name, team = _user(body)
    return Invocation(
        platform=PLATFORM,
        channel_id=channel_id,
        user_id=user_id,
        user_name=name,
        command=command,
        workspace_id=team,
    )


def action_channel(body: dict[str, Any]) -> str:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return str(channel or "")


def from_ephemeral(body: dict[str, Any]) -> bool:
    """Whether a click came from a message only its viewer sees (``/candidates``)."""
    return bool((body.get("container") or {}).get("is_ephemeral"))


def vote_target(action_id: str) -> tuple[int, int] | None:
    """``vote:<round>:<candidate>`` → (round id, candidate id)."""
    return parse_vote_id(action_id)


def request_key(body: dict[str, Any]) -> str | None:
    """What makes one user action unique; Slack's retries of it carry the same value.

    Slash commands, clicks and modal submissions each get a fresh ``trigger_id`` (and clicks an
    ``action_ts``); events have an ``event_id``.
    """
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if not trigger:
        return None
    stamps = ",".join(str(a.get("action_ts", "")) for a in body.get("actions") or ())
    return f"{body.get('type') or 'command'}:{trigger}:{stamps}"


def thread_reply(body: dict[str, Any]) -> ThreadMessage | None:
    """The thread reply an ``event_callback`` carries; None for anything else (a post in the
    channel itself, an edit, a bot's message, the bot's own thread opening)."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    if not isinstance(event, dict) or event.get("type") != "message":
        return None
    if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
        return None
    ts, thread_ts = str(event.get("ts") or ""), str(event.get("thread_ts") or "")
    channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
    if not (ts and thread_ts and channel and user) or ts == thread_ts:
        return None
    text = str(event.get("text") or "")
    return ThreadMessage(PLATFORM, thread_ts, f"{channel}:{ts}", user, text, channel_id=channel)
