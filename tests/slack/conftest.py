"""Slack test fixtures: the real adapter in HTTP mode on 127.0.0.1 against a fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.slack import SlackAdapter, build
from bot.core import Yomikai
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import SlackFactory, SlackSide, slack_settings


@pytest.fixture
async def slack_factory(core: Yomikai, fake_slack: FakeSlack) -> AsyncIterator[SlackFactory]:
    """Start the adapter (HTTP mode, any free port) against the fake Slack."""
    started: list[SlackAdapter] = []
    http = aiohttp.ClientSession()

    async def start(redraw_interval: float = 0.2, **settings: Any) -> SlackSide:
        adapter = build(
            slack_settings(fake_slack, **settings),
            core,
            host="127.0.0.1",
            port=0,
            redraw_interval=redraw_interval,
        )
        await adapter.start()
        core.connect(adapter)  # as the composition root does: posts go out through it
        await core.start()
        started.append(adapter)
        return SlackSide(adapter, fake_slack, http)

    try:
        yield start
    finally:
        for adapter in started:
            await adapter.stop()
        await core.stop()
        await http.close()


@pytest.fixture
async def slack(slack_factory: SlackFactory) -> SlackSide:
    return await slack_factory()
