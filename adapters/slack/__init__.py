"""Slack: slash commands, vote buttons and the card modal through slack-bolt, on the core.

``build(settings, core)`` makes the adapter; ``await adapter.start()`` serves Socket Mode when
``SLACK_APP_TOKEN`` is set, else HTTP on ``YOMIKAI_HTTP_PORT`` at ``/slack/events``.
"""

from __future__ import annotations

from adapters.slack.app import SlackAdapter, SlackStartError
from bot.config import Settings
from bot.core import Yomikai

__all__ = ["SlackAdapter", "SlackStartError", "build"]


def build(
    settings: Settings,
    core: Yomikai,
    *,
    host: str = "0.0.0.0",
    port: int | None = None,
    redraw_interval: float = 1.0,
) -> SlackAdapter:
    """The Slack adapter for these settings (``port`` overrides ``YOMIKAI_HTTP_PORT``; 0 = any)."""
    return SlackAdapter(settings, core, host=host, port=port, redraw_interval=redraw_interval)
