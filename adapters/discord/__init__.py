"""The Discord adapter: slash commands, vote buttons, card forms and reminders via discord.py.

``build(settings, core)`` makes it; ``await adapter.start()`` logs in, syncs the slash commands
and connects; ``await adapter.stop()`` closes. Modules: ``inbound`` (interactions → invocations),
``render`` (messages → embeds and views), ``components`` (persistent buttons, forms),
``commands`` (slash commands from the registry), ``handlers`` and ``delivery`` (answering),
``redraw`` (debounced ballot edits), ``client`` (discord.py client), ``adapter`` (the port).
"""

from __future__ import annotations

from adapters.discord.adapter import DiscordAdapter
from bot.config import Settings
from bot.core import Yomikai

__all__ = ["DiscordAdapter", "build"]


def build(settings: Settings, core: Yomikai) -> DiscordAdapter:
    if settings.discord_bot_token is None:
        raise ValueError("DISCORD_BOT_TOKEN is not set: the Discord adapter cannot start")
    return DiscordAdapter(
        core,
        settings.discord_bot_token.get_secret_value(),
        guild_id=settings.discord_guild_id,
        api_url=settings.discord_api_url,
        message_content=settings.discord_message_content,
    )
