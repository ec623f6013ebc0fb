"""A fake Discord on 127.0.0.1: the REST API discord.py calls, and a gateway websocket.

It records every request, answers like Discord (message objects with snowflake ids, interaction
callbacks, DM channels, synced commands), keeps the messages so edits and clicks can be checked,
and fails on demand (a 429 with ``retry_after``, a 403 for closed DMs). It also makes the
``INTERACTION_CREATE`` payloads users would cause, from the real samples in
``tests/fixtures/discord/``: a slash command, a click on a stored message, a form submit.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "discord"
APP_ID = 1216675598034927619
GUILD_ID = 883073851020410880
CHANNEL_ID = 883260727220109316
DISCORD_EPOCH_MS = 1420070400000
BOT_USER = {
    "id": str(APP_ID),
    "username": "Yomikai",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "public_flags": 0,
    "flags": 0,
}
USERS = {
    # name: (id, display name); ada is the member of the recorded samples.
    "ada": (580039817992208384, "Ada"),
    "bob": (580039817992208385, "Bob"),
    "carol": (580039817992208386, "Carol"),
    "dave": (580039817992208387, "Dave"),
    "erin": (580039817992208388, "Erin"),
}
EPHEMERAL = 64
LOADING = 128
NO_PINGS = {"parse": []}


def user_ids(name: str) -> tuple[int, str]:
    """(id, display name) of a member: the known ones above, or a made-up stable one."""
    if name in USERS:
        return USERS[name]
    return 580039817992300000 + zlib.crc32(name.encode()) % 100_000, name.title()


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def violations(body: dict[str, Any]) -> list[str]:
    """What Discord would refuse in a message or form body (its documented length limits)."""
    found = []

    def check(what: str, text: Any, limit: int, *, required: bool = False) -> None:
        if text is None:
            if required:
                found.append(f"{what} missing")
            return
        if units(str(text)) > limit or (required and not str(text)):
            found.append(f"{what} ({units(str(text))} > {limit})")

    check("content", body.get("content"), 2000)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        found.append("more than 10 embeds")
    total = 0
    for embed in embeds:
        check("embed title", embed.get("title"), 256)
        check("embed description", embed.get("description"), 4096)
        check("footer", (embed.get("footer") or {}).get("text"), 2048)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            found.append("more than 25 fields")
        for item in fields:
            check("field name", item.get("name"), 256, required=True)
            check("field value", item.get("value"), 1024, required=True)
        parts = [
            embed.get("title"),
            embed.get("description"),
            (embed.get("footer") or {}).get("text"),
        ]
        parts += [p for item in fields for p in (item.get("name"), item.get("value"))]
        total += sum(units(str(p)) for p in parts if p)
    if total > 6000:
        found.append(f"embeds total {total} > 6000")
    rows = body.get("components") or []
    if len(rows) > 5:
        found.append("more than 5 rows")
    for row in rows:
        items = row.get("components") or []
        if len(items) > 5 or (len(items) > 1 and any(i.get("type") != 2 for i in items)):
            found.append("row holds more than 5 buttons or a menu and more")
        for item in items:
            check("custom_id", item.get("custom_id"), 100)
            check("label", item.get("label"), 80 if item.get("type") == 2 else 45)
            check("placeholder", item.get("placeholder"), 150)
            check("input value", item.get("value"), 4000)
            options = item.get("options")
            if options is not None and not 1 <= len(options) <= 25:
                found.append("menu options not within 1..25")
            for option in options or []:
                check("option label", option.get("label"), 100, required=True)
                check("option description", option.get("description"), 100)
    if "title" in body and "custom_id" in body:  # a form
        check("form title", body.get("title"), 45)
    return found


def sample(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


SAMPLES = {
    name: sample(name) for name in ("application_command", "message_component", "modal_submit")
}


@dataclass
class Call:
    method: str
    path: str
    """Without the ``/api/v10`` prefix: ``/channels/1/messages``."""
    query: dict[str, str]
    body: Any
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    times: int
    headers: dict[str, str]


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.interactions: dict[str, dict[str, Any]] = {}
        """Token → what the interaction made: ``channel_id``, ``callbacks``, ``messages``."""
        self.closed_dms: set[str] = set()
        self.dm_channels: dict[str, str] = {}
        self.identified: list[dict[str, Any]] = []
        self.refused: list[tuple[Call, list[str]]] = []
        """Requests answered 400 for breaking a length limit (tests expect none)."""
        self.gateway_urls: list[str] = []
        self.nonces: dict[tuple[str, str], str] = {}
        """(channel, nonce) → the message it made: a send with ``enforce_nonce`` is done once."""
        self.threads: dict[str, dict[str, Any]] = {}
        """Thread id (the id of the message it was started from) → the thread channel."""
        self.events: dict[str, dict[str, Any]] = {}
        """Guild Scheduled Event id → the event as Discord keeps it."""
        self._failures: list[Failure] = []
        self._counter = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base = ""

    # --- server -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """What ``DISCORD_API_URL`` is set to."""
        return f"{self.base}/api/v10"

    # --- what tests arrange and look at --------------------------------------------------------

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        body: dict[str, Any],
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``times`` matching requests get ``status`` and ``body``."""
        extra = {"Via": "1.1 google"} if status == 429 else {}
        extra |= headers or {}
        self._failures.append(Failure(method, re.compile(pattern), status, body, times, extra))

    def rate_limit(self, method: str, pattern: str, retry_after: float, times: int = 1) -> None:
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        self.fail(method, pattern, 429, body, times=times)

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    async def wait_until(self, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Poll ``check`` until it returns something true (follow-ups arrive asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {check}")
            await asyncio.sleep(0.01)

    def said(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages an interaction produced (response and follow-ups), in order."""
        made = self.interactions.get(payload["token"], {}).get("messages", [])
        return [self.messages[m] for m in made if m in self.messages]

    def posted_since(self, before: set[str]) -> list[dict[str, Any]]:
        """Channel posts made since ``before`` (a set of message ids), oldest first."""
        answers = {m for i in self.interactions.values() for m in i.get("messages", [])}
        return [m for key, m in self.messages.items() if key not in before and key not in answers]

    def callbacks(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        return self.interactions.get(payload["token"], {}).get("callbacks", [])

    async def answered(self, payload: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
        """Wait until the interaction has ``count`` visible messages; return them."""
        return await self.wait_until(lambda: (m := self.said(payload)) and len(m) >= count and m)

    def channel_messages(self, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == str(channel_id) and not m["flags"] & EPHEMERAL
        ]

    # --- payloads users cause -------------------------------------------------------------------

    def snowflake(self) -> str:
        now = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((now << 22) + next(self._counter))

    def command(
        self,
        name: str,
        options: list[dict[str, Any]] | None = None,
        *,
        user: str = "ada",
        channel_id: int = CHANNEL_ID,
        resolved: dict[str, Any] | None = None,
        kind: int = 2,
    ) -> dict[str, Any]:
        """A slash command (``kind`` 4: an autocomplete request) as Discord sends it."""
        payload = self._base("application_command", user, channel_id)
        payload["type"] = kind
        payload["data"] = {
            "id": self.snowflake(),
            "name": name,
            "type": 1,
            "options": options or [],
            "guild_id": str(GUILD_ID),
        }
        if resolved:
            payload["data"]["resolved"] = resolved
        return payload

    def click(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        user: str = "ada",
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        """A click on a button (or a choice in a menu, with ``values``) of a stored message."""
        payload = self._base("message_component", user, int(message["channel_id"]))
        payload["message"] = copy.deepcopy(message)
        payload["data"] = {"component_type": 3 if values else 2, "custom_id": custom_id}
        if values:
            payload["data"]["values"] = values
        return payload

    def submit(
        self, custom_id: str, values: dict[str, str], *, user: str = "ada"
    ) -> dict[str, Any]:
        """A submitted form (modal) with text inputs by ``custom_id``."""
        payload = self._base("modal_submit", user, CHANNEL_ID)
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()
        ]
        payload["data"] = {"custom_id": custom_id, "components": rows}
        return payload

    def _base(self, kind: str, user: str, channel_id: int) -> dict[str, Any]:
        payload = copy.deepcopy(SAMPLES[kind])
        user_id, display = user_ids(user)
        payload["id"] = self.snowflake()
        payload["token"] = f"token-{payload['id']}"
        payload["channel_id"] = str(channel_id)
        payload["channel"]["id"] = str(channel_id)
        member = payload["member"]
        member["nick"] = display
        member["user"] |= {"id": str(user_id), "username": user, "global_name": display}
        payload.pop("message", None)
        self.interactions[payload["token"]] = {
            "id": payload["id"],
            "channel_id": str(channel_id),
            "callbacks": [],
            "messages": [],
        }
        return payload

    # --- gateway --------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a dispatch event (``INTERACTION_CREATE``) to every connected session, as Discord
        does when one bot runs several unsharded sessions (replicas)."""
        assert self._sockets, "no client is connected to the fake gateway"
        event_seq = next(self._seq)
        for socket in list(self._sockets):
            await socket.send_json({"op": 0, "t": event, "s": event_seq, "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.gateway_urls.append(str(request.url))
        self._sockets.append(socket)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in socket:
            message = json.loads(frame.data)
            if message["op"] == 1:
                await socket.send_json({"op": 11})
            elif message["op"] == 2:
                self.identified.append(message["d"])
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "fake-session",
                    "resume_gateway_url": f"{self.base.replace('http', 'ws')}/gateway",
                    "application": {"id": str(APP_ID), "flags": 0},
                    "shard": [0, 1],
                }
                await socket.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        self._sockets.remove(socket)
        return socket

    # --- REST -----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await _read_body(request)
        call = Call(request.method, path, dict(request.query), body, files)
        self.calls.append(call)
        for failure in self._failures:
            if (
                failure.times > 0
                and failure.method == call.method
                and failure.pattern.fullmatch(path)
            ):
                failure.times -= 1
                return _json(failure.body, status=failure.status, headers=failure.headers)
        bodies = [call.body.get("data")] if path.endswith("/callback") else [call.body]
        refused = [v for b in bodies if isinstance(b, dict) for v in violations(b)]
        if refused:
            self.refused.append((call, refused))
            body = {"code": 50035, "message": "Invalid Form Body", "errors": refused}
            return _json(body, status=400)
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if method == call.method and match:
                return await handler(call, *match.groups())
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("GET", r"/gateway", self._gateway_url),
            ("GET", r"/gateway/bot", self._gateway_url),
            ("PUT", r"/applications/(\d+)/commands", self._sync),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._sync),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._webhook_edit),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._webhook_delete),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("POST", r"/channels/(\d+)/messages", self._post),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._start_thread),
            ("GET", r"/channels/(\d+)", self._channel),
            ("POST", r"/guilds/(\d+)/scheduled-events", self._create_event),
            ("PATCH", r"/guilds/(\d+)/scheduled-events/(\d+)", self._edit_event),
        ]

    async def _start_thread(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        """A public thread from a message: its id is the message's; a second one is refused."""
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if message_id in self.threads:
            body = {"message": "A thread has already been created for this message", "code": 160004}
            return _json(body, status=400)
        thread = {
            "id": message_id,
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": channel_id,
            "owner_id": str(APP_ID),
            "name": call.body.get("name"),
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": call.body.get("auto_archive_duration"),
                "archive_timestamp": datetime.now(UTC).isoformat(),
                "locked": False,
            },
            "total_message_sent": 0,
        }
        self.threads[message_id] = thread
        return _json(thread)

    async def _channel(self, call: Call, channel_id: str) -> web.Response:
        if channel_id in self.threads:
            return _json(self.threads[channel_id])
        if channel_id == str(CHANNEL_ID):
            return _json(
                {"id": channel_id, "type": 0, "guild_id": str(GUILD_ID), "name": "reading"}
            )
        return _json({"message": "Unknown Channel", "code": 10003}, status=404)

    async def _create_event(self, call: Call, guild_id: str) -> web.Response:
        event = dict(call.body) | {
            "id": self.snowflake(),
            "guild_id": guild_id,
            "channel_id": None,
            "creator_id": str(APP_ID),
            "status": 1,
            "entity_id": None,
            "user_count": 0,
        }
        self.events[event["id"]] = event
        return _json(event)

    async def _edit_event(self, call: Call, guild_id: str, event_id: str) -> web.Response:
        event = self.events.get(event_id)
        if event is None:
            return _json({"message": "Unknown Guild Scheduled Event", "code": 10070}, status=404)
        if event["status"] != 1:  # only a scheduled event may change
            body = {"message": "Cannot update a finished or cancelled event", "code": 180000}
            return _json(body, status=400)
        event.update(call.body)
        return _json(event)

    def thread_message(self, thread_id: str, user: str, content: str) -> dict[str, Any]:
        """A ``MESSAGE_CREATE`` of a member writing in a thread (``dispatch`` sends it)."""
        user_id, display = user_ids(user)
        author = {
            "id": str(user_id),
            "username": user,
            "discriminator": "0",
            "global_name": display,
            "avatar": None,
        }
        return {
            "id": self.snowflake(),
            "channel_id": thread_id,
            "guild_id": str(GUILD_ID),
            "type": 0,
            "content": content,
            "author": author,
            "member": {"nick": display, "roles": [], "joined_at": datetime.now(UTC).isoformat()},
            "embeds": [],
            "attachments": [],
            "components": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "flags": 0,
        }

    async def _me(self, call: Call) -> web.Response:
        return _json(BOT_USER)

    async def _application(self, call: Call) -> web.Response:
        owner = {
            "id": str(USERS["ada"][0]),
            "username": "ada",
            "discriminator": "0",
            "avatar": None,
        }
        return _json(
            {
                "id": str(APP_ID),
                "name": "Yomikai",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner,
                "verify_key": "0" * 64,
                "flags": 0,
            }
        )

    async def _gateway_url(self, call: Call) -> web.Response:
        url = f"{self.base.replace('http', 'ws')}/gateway"
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": url, "shards": 1, "session_start_limit": limit})

    async def _sync(self, call: Call, app_id: str, guild_id: str | None = None) -> web.Response:
        synced = []
        for command in call.body:
            command = dict(command) | {
                "id": self.snowflake(),
                "application_id": app_id,
                "version": "1",
            }
            if guild_id:
                command["guild_id"] = guild_id
            synced.append(command)
        return _json(synced)

    async def _callback(self, call: Call, interaction_id: str, token: str) -> web.Response:
        seen = self.interactions.setdefault(token, {"callbacks": [], "messages": []})
        if seen["callbacks"]:
            self.refused.append((call, ["already acknowledged"]))
            body = {"code": 40060, "message": "Interaction has already been acknowledged."}
            return _json(body, status=400)
        seen["callbacks"].append(call.body)
        kind, data = call.body["type"], call.body.get("data") or {}
        info: dict[str, Any] = {"id": interaction_id, "type": 2}
        answer: dict[str, Any] = {"interaction": info}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = self._store(seen.get("channel_id", str(CHANNEL_ID)), data, call.files, flags)
            seen["original"] = message["id"]
            seen["messages"].append(message["id"])
            info |= {
                "response_message_id": message["id"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
            answer["resource"] = {"type": kind, "message": message}
        return _json(answer)

    async def _followup(self, call: Call, app_id: str, token: str) -> web.Response:
        seen = self.interactions.setdefault(token, {"callbacks": [], "messages": []})
        flags = int(call.body.get("flags") or 0)
        message = self._store(seen.get("channel_id", str(CHANNEL_ID)), call.body, call.files, flags)
        message["webhook_id"] = app_id
        seen["messages"].append(message["id"])
        return _json(message)

    async def _webhook_edit(self, call: Call, app_id: str, token: str, ref: str) -> web.Response:
        seen = self.interactions.get(token, {})
        message_id = seen.get("original") if ref == "@original" else ref
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        message = self.messages[message_id]
        message["flags"] &= ~LOADING
        return _json(self._apply(message, call))

    async def _webhook_delete(self, call: Call, app_id: str, token: str, ref: str) -> web.Response:
        seen = self.interactions.get(token, {})
        message_id = seen.get("original") if ref == "@original" else ref
        self.messages.pop(str(message_id), None)
        return web.Response(status=204)

    async def _open_dm(self, call: Call) -> web.Response:
        user_id = str(call.body["recipient_id"])
        channel_id = self.dm_channels.setdefault(user_id, self.snowflake())
        name = next((n for n, (i, _) in USERS.items() if str(i) == user_id), "member")
        recipient = {"id": user_id, "username": name, "discriminator": "0", "avatar": None}
        return _json({"id": channel_id, "type": 1, "recipients": [recipient]})

    async def _post(self, call: Call, channel_id: str) -> web.Response:
        user = next((u for u, c in self.dm_channels.items() if c == channel_id), None)
        if user is not None and user in self.closed_dms:
            body = {"message": "Cannot send messages to this user", "code": 50007}
            return _json(body, status=403)
        nonce = str(call.body.get("nonce") or "")
        if nonce and call.body.get("enforce_nonce"):  # Discord answers with the first message
            first = self.nonces.get((channel_id, nonce))
            if first is not None and first in self.messages:
                return _json(self.messages[first])
        message = self._store(channel_id, call.body, call.files, 0)
        if nonce:
            message["nonce"] = nonce
            self.nonces[(channel_id, nonce)] = message["id"]
        return _json(message)

    async def _edit(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(self._apply(message, call))

    def _store(
        self, channel_id: str, body: dict[str, Any], files: dict[str, bytes], flags: int
    ) -> dict[str, Any]:
        message = {
            "id": self.snowflake(),
            "channel_id": str(channel_id),
            "type": 0,
            "content": "",
            "embeds": [],
            "components": [],
            "attachments": [],
            "author": BOT_USER,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "flags": flags,
            "application_id": str(APP_ID),
        }
        self.messages[message["id"]] = message
        return self._apply(message, Call("POST", "", {}, body, files), edited=False)

    def _apply(self, message: dict[str, Any], call: Call, *, edited: bool = True) -> dict[str, Any]:
        body = call.body or {}
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if call.files:
            message["attachments"] = [
                {
                    "id": self.snowflake(),
                    "filename": name,
                    "size": len(data),
                    "url": "",
                    "proxy_url": "",
                }
                for name, data in call.files.items()
            ]
        if edited:
            message["edited_timestamp"] = datetime.now(UTC).isoformat()
        return message


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer typed exactly ``application/json``, as discord.py requires to parse it."""
    headers = {"Content-Type": "application/json"} | (headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    """JSON, or discord.py's multipart (``payload_json`` and ``files[n]``) when it sends files."""
    if request.content_type.startswith("multipart/"):
        body: Any = {}
        files: dict[str, bytes] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(await part.text())  # type: ignore[union-attr]
            else:
                files[part.filename or part.name or ""] = await part.read()  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), {}
