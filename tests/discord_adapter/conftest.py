"""Fixtures for driving the Discord adapter through discord.py against a fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from discord.http import Route

from adapters.discord.adapter import DiscordAdapter
from bot.core import Yomikai
from tests.fakes.discord_api import GUILD_ID, FakeDiscord

MakeAdapter = Callable[..., Awaitable[DiscordAdapter]]


@pytest.fixture(autouse=True)
def restore_route_base() -> Any:
    """``Route.BASE`` is process-wide: whatever a test does, the next one starts from Discord's."""
    saved = Route.BASE
    yield
    Route.BASE = saved


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def make_adapter(core: Yomikai, fake_discord: FakeDiscord) -> AsyncIterator[MakeAdapter]:
    """Start an adapter (a fresh process, as far as discord.py knows) on the fake Discord.

    ``on`` is the core it serves (another core on the same database: another replica).
    """
    running: list[DiscordAdapter] = []

    async def make(*, on: Yomikai = core, **options: Any) -> DiscordAdapter:
        settings: dict[str, Any] = {
            "guild_id": GUILD_ID,
            "api_url": fake_discord.url,
            "ready_timeout": 0.01,
            "redraw_interval": 0.05,
        } | options
        adapter = DiscordAdapter(on, "fake-bot-token", **settings)
        await adapter.start()
        on.connect(adapter)  # as the composition root does: posts go out through it
        await on.start()
        running.append(adapter)
        return adapter

    yield make
    for adapter in running:
        await adapter.stop()
        await adapter.core.stop()


@pytest.fixture
async def adapter(make_adapter: MakeAdapter) -> DiscordAdapter:
    return await make_adapter()


def feed(adapter: DiscordAdapter, payload: dict[str, Any]) -> None:
    """An INTERACTION_CREATE arrives: straight into discord.py's connection state."""
    adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
