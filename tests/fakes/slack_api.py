"""A fake Slack on 127.0.0.1 that records every call: the Web API, response_urls, Socket Mode.

Runs on the test's own event loop (aiohttp). Answers like Slack (shapes from
``tests/fixtures/slack/``); ``fail`` queues failures (429 with Retry-After, a dropped
connection, a Slack error) for a method's next calls.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import WSMsgType, web

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
TEAM_ID = "T04QX7N3K2B"
BOT_USER_ID = "U06BQ29MTLX"
BOT_ID = "B06BQ1RDG9K"


@dataclass
class Call:
    method: str
    """``chat.postMessage`` …, or ``response_url`` for posts to a response URL."""
    args: dict[str, Any]
    time: float = field(default_factory=time.monotonic)
    result: dict[str, Any] = field(default_factory=dict)
    """What the fake answered (``ts`` of a posted message …)."""
    path: str = ""
    """For ``response_url``: the path it was posted to."""

    def text(self) -> str:
        """Everything Slack would draw for this call, as one string (for assertions)."""
        return json.dumps(
            {k: self.args.get(k) for k in ("text", "blocks", "view")}, ensure_ascii=False
        )

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.args.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[str]] = {}
        self.base = ""
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.history: dict[str, list[dict[str, Any]]] = {}
        """Channel → the messages posted there (with their ``metadata``), oldest first."""
        self.held: list[Call] = []
        """Calls answered with ``hold``: posted, then never answered (the bot is killed)."""
        self.uploads: dict[str, bytes] = {}
        """File id → the bytes posted to its upload URL (``files_upload_v2``, step 2)."""
        self.shared: list[dict[str, Any]] = []
        """Files shared in a channel by ``files.completeUploadExternal``: id, title, name,
        channel, initial comment, the bytes."""
        self._files: dict[str, dict[str, Any]] = {}
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """(channel, parent ts) → the replies posted in that thread, oldest first (as in Slack,
        they are not in the channel's history)."""

    # --- what tests use -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/hooks/{name}"

    def fail(self, method: str, *modes: str) -> None:
        """The next calls of ``method`` act up: ``429``, ``500``, ``drop`` (connection closed),
        ``hold`` (done, but the answer never comes), ``ok`` (answered as usual) or an error code.
        ``response_url`` takes ``500`` and ``ok`` too."""
        self.failures.setdefault(method, []).extend(modes)

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message in the channels' histories (or one channel's)."""
        channels = [channel] if channel else list(self.history)
        return [m for c in channels for m in self.history.get(c, [])]

    def to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self, check: Callable[[], Any], timeout: float = 5.0, what: str = "the fake Slack"
    ) -> Any:
        """Poll until ``check()`` is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                methods = [c.method for c in self.calls]
                raise AssertionError(f"timed out waiting for {what}; calls: {methods}")
            await asyncio.sleep(0.01)

    async def wait_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        return await self.wait_for(
            lambda: self.to(method) if len(self.to(method)) >= count else None,
            timeout,
            f"{count} × {method}",
        )

    async def push(self, envelope: dict[str, Any]) -> None:
        """Socket Mode: send an envelope to the connected app."""
        await self.wait_for(lambda: self._sockets, what="a Socket Mode connection")
        await self._sockets[-1].send_str(json.dumps(envelope))

    # --- the server -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(parse_qsl(request.query_string))
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(dict(parse_qsl(await request.text())))
        call = Call(method, args)
        self.calls.append(call)
        queued = self.failures.get(method)
        mode = queued.pop(0) if queued else "ok"
        if mode == "429":
            body = {"ok": False, "error": "ratelimited"}
            return web.json_response(body, status=429, headers={"Retry-After": "1"})
        if mode == "500":
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if mode == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if mode not in ("ok", "hold"):
            return web.json_response({"ok": False, "error": mode})
        call.result = self._answer(method, args)
        if mode == "hold":
            self.held.append(call)
            await asyncio.Event().wait()  # until the bot gives up or is killed
        return web.json_response(call.result)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return ok | {
                "url": "https://mlreading.slack.com/",
                "team": "mlreading",
                "user": "yomikai",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            answer = json.loads((FIXTURES / "chat_postMessage_response.json").read_text())
            ts = f"{int(time.time())}.{next(self._ts):06d}"  # a real time: history reads it
            message = answer["message"] | {"ts": ts, "text": args.get("text")}
            message["blocks"] = args.get("blocks")
            metadata = args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            if metadata:
                message["metadata"] = metadata
            channel = str(args.get("channel"))
            if args.get("thread_ts"):
                message["thread_ts"] = str(args["thread_ts"])
                self.replies.setdefault((channel, message["thread_ts"]), []).append(message)
            else:
                self.history.setdefault(channel, []).append(message)
            return answer | {"channel": args.get("channel"), "ts": ts, "message": message}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            found = [
                m
                if args.get("include_all_metadata") in (True, "true", "1", 1)
                else {k: v for k, v in m.items() if k != "metadata"}
                for m in self.history.get(str(args.get("channel")), [])
                if float(m["ts"]) >= oldest
            ]
            return ok | {"messages": list(reversed(found)), "has_more": False}
        if method == "conversations.replies":
            channel, parent = str(args.get("channel")), str(args.get("ts"))
            first = [m for m in self.history.get(channel, []) if m["ts"] == parent]
            if not first:
                return {"ok": False, "error": "thread_not_found"}
            found = first + self.replies.get((channel, parent), [])
            if args.get("include_all_metadata") not in (True, "true", "1", 1):
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            return ok | {"messages": found, "has_more": False}
        if method == "chat.getPermalink":
            channel, ts = str(args.get("channel")), str(args.get("message_ts"))
            link = f"https://mlreading.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return ok | {"channel": channel, "permalink": link}
        if method == "chat.update":
            return ok | {"channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return ok | {"message_ts": f"1749747999.{next(self._ts):06d}"}
        if method == "views.open":
            return ok | {"view": {"id": "V07A1B2C3D4"} | dict(args.get("view") or {})}
        if method == "conversations.open":
            return ok | {"channel": {"id": "D" + str(args.get("users", "X")).lstrip("UW")}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):010d}"
            self._files[file_id] = {"name": args.get("filename"), "length": args.get("length")}
            return ok | {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            listed = json.loads(files) if isinstance(files, str) else list(files or [])
            shared = []
            for item in listed:
                known = self._files.get(item["id"], {})
                entry = {
                    "id": item["id"],
                    "title": item.get("title"),
                    "name": known.get("name"),
                    "channel": args.get("channel_id"),
                    "initial_comment": args.get("initial_comment"),
                    "data": self.uploads.get(item["id"], b""),
                }
                self.shared.append(entry)
                shared.append({"id": item["id"], "title": item.get("title"), "name": entry["name"]})
            return ok | {"files": shared}
        if method == "apps.connections.open":
            return ok | {"url": self.base.replace("http", "ws") + "/link"}
        return ok

    async def _upload(self, request: web.Request) -> web.Response:
        """``files_upload_v2`` step 2: the file's bytes, posted to the URL of step 1."""
        file_id = request.match_info["file_id"]
        self.calls.append(Call("upload", {"file_id": file_id}, path=request.path))
        self.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _hook(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json(), path=request.path))
        queued = self.failures.get("response_url")
        if queued and queued.pop(0) == "500":
            return web.Response(status=500, text="internal_error")
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/hooks/{name:.*}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        return app

    async def close_sockets(self) -> None:
        for ws in self._sockets:
            await ws.close()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await fake.close_sockets()
        await runner.cleanup()
