"""Playing Slack in tests: requests signed and shaped like Slack's (v0 signature, form-encoded
slash commands, ``payload=`` JSON for clicks and modals), and reading what the fake Slack got."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from copy import deepcopy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp

from adapters.slack import SlackAdapter
from bot.config import Settings
from tests.fakes.slack_api import Call, FakeSlack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
SECRET = "e5c1f0d7a9b84c2f8d3e6a1b7c9d0f24"
"""The made-up signing secret of the fixtures' test vector."""
TEAM = "T04QX7N3K2B"
CHANNEL = "C05RDNG4GRP"
SLASH_TEMPLATE = dict(parse_qsl((FIXTURES / "slash_command.txt").read_text(encoding="utf-8")))
ACTION_TEMPLATE = json.loads((FIXTURES / "block_actions.json").read_text(encoding="utf-8"))
VIEW_TEMPLATE = json.loads((FIXTURES / "view_submission.json").read_text(encoding="utf-8"))


def user_id(name: str) -> str:
    return "U0" + name.upper().replace(".", "")[:9]


def signature(body: str, timestamp: int | str, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_settings(fake: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-4830127645412-7264519830417-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": None,
        "SLACK_API_URL": fake.api_url,
    }
    return Settings(_env_file=None, **(values | extra))  # type: ignore[call-arg]


class SlackSide:
    """Plays Slack towards the running app: signs and sends what users do."""

    def __init__(
        self, adapter: SlackAdapter, fake: FakeSlack, http: aiohttp.ClientSession | None = None
    ) -> None:
        self.adapter = adapter
        self.fake = fake
        self.http = http
        self.url = "" if adapter.socket_mode else f"http://127.0.0.1:{adapter.port}/slack/events"
        self._ids = itertools.count(1)

    def _next(self) -> int:
        return next(self._ids)

    async def send(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        sign_with: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, float]:
        """POST ``body`` signed like Slack; (status, response body, seconds until answered)."""
        stamp = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(body, stamp, sign_with),
        } | (headers or {})
        started = time.monotonic()
        assert self.http is not None and self.url, "HTTP mode only"
        async with self.http.post(self.url, data=body.encode(), headers=sent) as response:
            text = await response.text()
            return response.status, text, time.monotonic() - started

    def command_body(self, user: str, line: str, channel: str = CHANNEL) -> str:
        return urlencode(self.command_fields(user, line, channel))

    def command_fields(self, user: str, line: str, channel: str = CHANNEL) -> dict[str, str]:
        """A slash command's form fields, as Slack sends them (``slash_command.txt``)."""
        command, _, text = line.partition(" ")
        n = self._next()
        return SLASH_TEMPLATE | {
            "channel_id": channel,
            "user_id": user_id(user),
            "user_name": user,
            "command": command,
            "text": text,
            "response_url": self.fake.response_url(f"commands/{TEAM}/{n}/{user}"),
            "trigger_id": f"7264519830{n:03d}.4830127645412.{n:032x}",
        }

    async def command(self, user: str, line: str) -> tuple[int, str, float]:
        return await self.send(self.command_body(user, line))

    def click_payload(
        self, user: str, action_id: str, message_ts: str, *, ephemeral: bool = False
    ) -> dict[str, Any]:
        """A ``block_actions`` click on the button ``action_id`` of the message ``message_ts``."""
        n = self._next()
        payload = deepcopy(ACTION_TEMPLATE)
        payload["container"]["is_ephemeral"] = ephemeral
        payload["user"] |= {"id": user_id(user), "username": user, "name": user}
        payload["container"]["message_ts"] = message_ts
        payload["message"]["ts"] = message_ts
        payload["trigger_id"] = f"7264588120{n:03d}.4830127645412.{n:032x}"
        payload["response_url"] = self.fake.response_url(f"actions/{TEAM}/{n}/{user}")
        payload["actions"] = [
            {
                "action_id": action_id,
                "block_id": f"b{n}",
                "text": {"type": "plain_text", "text": "Vote", "emoji": True},
                "value": action_id,
                "type": "button",
                "action_ts": f"1749748012.{n:06d}",
            }
        ]
        return payload

    def click_body(
        self, user: str, action_id: str, message_ts: str, *, ephemeral: bool = False
    ) -> str:
        payload = self.click_payload(user, action_id, message_ts, ephemeral=ephemeral)
        return urlencode({"payload": json.dumps(payload)})

    async def click(
        self, user: str, action_id: str, message_ts: str, *, ephemeral: bool = False
    ) -> tuple[int, str, float]:
        return await self.send(self.click_body(user, action_id, message_ts, ephemeral=ephemeral))

    async def submit(
        self, user: str, opened: dict[str, Any], values: dict[str, str]
    ) -> tuple[int, str, float]:
        """Submit the modal ``opened`` (as views.open received it) with typed ``values``."""
        n = self._next()
        payload = deepcopy(VIEW_TEMPLATE)
        payload["user"] |= {"id": user_id(user), "username": user, "name": user}
        payload["trigger_id"] = f"7264603318{n:03d}.4830127645412.{n:032x}"
        state = {
            block["block_id"]: {
                block["element"]["action_id"]: {
                    "type": "plain_text_input",
                    "value": values.get(block["block_id"], block["element"].get("initial_value")),
                }
            }
            for block in opened["blocks"]
            if block["type"] == "input"
        }
        payload["view"] |= {
            "blocks": opened["blocks"],
            "callback_id": opened["callback_id"],
            "private_metadata": opened["private_metadata"],
            "state": {"values": state},
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}))


def buttons(call: Call) -> list[str]:
    return [
        b["accessory"]["action_id"]
        for b in call.blocks
        if b.get("accessory", {}).get("type") == "button"
    ]


def tallies(call: Call) -> list[int]:
    """The vote counts a drawn ballot shows, candidate by candidate."""
    texts = [b["text"]["text"] for b in call.blocks if b["type"] == "section"]
    return [int(re.search(r"votes: (\d+)", text).group(1)) for text in texts]


def ephemerals_to(fake: FakeSlack, user: str) -> list[Call]:
    """Private answers for ``user``: posts to their response_url, or chat.postEphemeral."""
    assert all(c.args.get("response_type") == "ephemeral" for c in fake.to("response_url")), (
        "every answer through a response_url is ephemeral"
    )
    return [
        c
        for c in fake.calls
        if (c.method == "response_url" and c.path.endswith(f"/{user}"))
        or (c.method == "chat.postEphemeral" and c.args.get("user") == user_id(user))
    ]


async def said_to(slack: SlackSide, user: str, line: str) -> Call:
    """Run a command and wait for its private answer."""
    before = len(ephemerals_to(slack.fake, user))
    status, body, _ = await slack.command(user, line)
    assert (status, body) == (200, "")
    found = await slack.fake.wait_for(
        lambda: ephemerals_to(slack.fake, user)[before:], what=f"an answer to {line}"
    )
    return found[0]


async def posted(slack: SlackSide, user: str, line: str, count: int = 1) -> list[Call]:
    """Run a command and wait for its ``count`` channel posts."""
    before = len(slack.fake.to("chat.postMessage"))
    status, _, took = await slack.command(user, line)
    assert status == 200 and took < 3.0
    calls = await slack.fake.wait_calls("chat.postMessage", before + count)
    return calls[before:]


async def ballot_posted(fake: FakeSlack) -> Call:
    """Wait for the public candidate list (the post with vote buttons)."""
    (ballot,) = await fake.wait_for(lambda: [c for c in fake.to("chat.postMessage") if buttons(c)])
    return ballot


SlackFactory = Callable[..., Awaitable[SlackSide]]
"""``await slack_factory(redraw_interval=…, **settings)`` starts one more adapter."""
