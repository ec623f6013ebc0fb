"""A conversation on the fake Discord: members run slash commands, click, and fill in forms.

Each step feeds a real-shaped INTERACTION_CREATE into discord.py's connection state, then waits
until the adapter has answered it (and redrawn ballots), so assertions see everything it sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from tests.fakes.discord_api import EPHEMERAL, NO_PINGS, FakeDiscord, user_ids


@dataclass(frozen=True)
class Member:
    """An option of type USER (6): the member picked in ``/yomikai-admin assign n member``."""

    name: str


def option(name: str, value: Any) -> dict[str, Any]:
    match value:
        case bool():
            raise TypeError("no boolean options here")
        case int():
            kind, raw = 4, value
        case Member():
            kind, raw = 6, str(user_ids(value.name)[0])
        case _:
            kind, raw = 3, str(value)
    return {"name": name, "type": kind, "value": raw}


def resolved_members(values: dict[str, Any]) -> dict[str, Any] | None:
    picked = [v for v in values.values() if isinstance(v, Member)]
    if not picked:
        return None
    users, members = {}, {}
    for member in picked:
        user_id, display = user_ids(member.name)
        users[str(user_id)] = {
            "id": str(user_id),
            "username": member.name,
            "global_name": display,
            "discriminator": "0",
            "avatar": None,
        }
        members[str(user_id)] = {"nick": display, "roles": [], "joined_at": None, "flags": 0}
    return {"users": users, "members": members}


@dataclass
class DiscordChat:
    adapter: DiscordAdapter
    fake: FakeDiscord

    def payload(self, user: str, path: str, **values: Any) -> dict[str, Any]:
        """``("bob", "yomikai take", n=3)`` → the payload of ``/yomikai take n:3`` by bob."""
        head, _, sub = path.partition(" ")
        options = [option(k, v) for k, v in values.items() if v is not None]
        if sub:
            options = [{"name": sub, "type": 1, "options": options}]
        return self.fake.command(head, options, user=user, resolved=resolved_members(values))

    async def send(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Feed one interaction; wait until it is answered; the messages it produced: what it
        announced in the channel (through the outbox), then its answers."""
        before = set(self.fake.messages)
        self.adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await self.fake.wait_until(lambda: self.fake.callbacks(payload))
        await self.settle()
        return self.fake.posted_since(before) + self.fake.said(payload)

    async def settle(self) -> None:
        await self.adapter.responder.settle()
        await self.adapter.redraw.drain(hurry=True)

    async def run(self, user: str, path: str, **values: Any) -> list[dict[str, Any]]:
        return await self.send(self.payload(user, path, **values))

    async def click(self, user: str, message: dict[str, Any], custom_id: str, **kw: Any) -> Any:
        return await self.send(self.fake.click(message, custom_id, user=user, **kw))

    async def submit(self, user: str, custom_id: str, values: dict[str, str]) -> Any:
        return await self.send(self.fake.submit(custom_id, values, user=user))


def text(message: dict[str, Any]) -> str:
    """Everything readable in a message: content, embed titles, texts, fields, footers."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item["name"], item["value"]]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


def ephemeral(message: dict[str, Any]) -> bool:
    return bool(message["flags"] & EPHEMERAL)


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [item["custom_id"] for row in message["components"] for item in row["components"]]


def assert_nothing_pings(fake: FakeDiscord) -> None:
    """Every message the bot sent allowed no mentions; Discord refused nothing for length."""
    assert fake.refused == []
    for call in fake.calls:
        body = call.body.get("data") if call.path.endswith("/callback") else call.body
        if not isinstance(body, dict) or not ({"content", "embeds"} & body.keys()):
            continue
        assert body.get("allowed_mentions") == NO_PINGS, json.dumps(body)[:300]
