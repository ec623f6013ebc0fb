"""Socket Mode (SLACK_APP_TOKEN set): the same listeners over a WebSocket to the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.slack import SlackAdapter, SlackStartError, build
from bot.core import Yomikai
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import (
    SlackSide,
    ballot_posted,
    buttons,
    ephemerals_to,
    slack_settings,
    tallies,
)

APP_TOKEN = "xapp-1-A06BQ0PPR1D-7264519830417-test"


@pytest.fixture
async def socket_adapter(core: Yomikai, fake_slack: FakeSlack) -> AsyncIterator[SlackAdapter]:
    settings = slack_settings(fake_slack, SLACK_APP_TOKEN=APP_TOKEN)
    adapter = build(settings, core, port=0, redraw_interval=0.2)
    await adapter.start()
    core.connect(adapter)
    yield adapter
    await adapter.stop()


def envelope(n: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "envelope_id": f"env-{n}",
        "type": kind,
        "accepts_response_payload": True,
        "payload": payload,
    }


async def test_socket_mode_round_trip(socket_adapter: SlackAdapter, fake_slack: FakeSlack) -> None:
    fake = fake_slack
    slack = SlackSide(socket_adapter, fake)
    assert len(fake.to("apps.connections.open")) == 1
    await fake.push(envelope(1, "slash_commands", slack.command_fields("alice", "/yomikai setup")))
    await fake.wait_for(lambda: any(a.get("envelope_id") == "env-1" for a in fake.socket_acks))
    await fake.wait_calls("chat.postMessage")
    nomination = slack.command_fields("alice", "/nominate 2204.06974")
    await fake.push(envelope(2, "slash_commands", nomination))
    await fake.push(envelope(3, "slash_commands", nomination) | {"retry_attempt": 1})
    await fake.wait_calls("chat.postMessage", 2)
    await fake.push(envelope(4, "slash_commands", slack.command_fields("alice", "/yomikai open")))
    ballot = await ballot_posted(fake)
    click = slack.click_payload("bob", buttons(ballot)[0], ballot.result["ts"])
    await fake.push(envelope(5, "interactive", click))
    await fake.wait_for(lambda: ephemerals_to(fake, "bob"))
    update = (await fake.wait_calls("chat.update"))[-1]
    await socket_adapter.settle()
    assert tallies(update) == [1]
    assert len(fake.to("chat.postMessage")) == 3  # setup, one nomination, the ballot
    assert {a["envelope_id"] for a in fake.socket_acks} >= {f"env-{n}" for n in range(1, 6)}


async def test_a_refused_token_stops_start(core: Yomikai, fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", "invalid_auth")
    adapter = build(slack_settings(fake_slack), core, host="127.0.0.1", port=0)
    with pytest.raises(SlackStartError, match=r"SLACK_BOT_TOKEN.*invalid_auth"):
        await adapter.start()


async def test_a_refused_app_token_stops_start(core: Yomikai, fake_slack: FakeSlack) -> None:
    fake_slack.fail("apps.connections.open", "invalid_auth")
    adapter = build(slack_settings(fake_slack, SLACK_APP_TOKEN=APP_TOKEN), core)
    with pytest.raises(SlackStartError, match=r"SLACK_APP_TOKEN.*invalid_auth"):
        await adapter.start()


async def test_a_port_in_use_stops_start(slack: SlackSide, core: Yomikai) -> None:
    settings = slack_settings(slack.fake)
    second = build(settings, core, host="127.0.0.1", port=slack.adapter.port)
    with pytest.raises(SlackStartError, match=r"YOMIKAI_HTTP_PORT"):
        await second.start()
