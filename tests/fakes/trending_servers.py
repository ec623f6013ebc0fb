"""Fake Hugging Face and Papers with Code APIs on 127.0.0.1, switchable into failure modes.

Fixtures ``fake_hf`` and ``fake_pwc`` are defined here; import them into a test module
explicitly (they are not registered in conftest.py).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HF_DAILY = json.loads((FIXTURES / "hf" / "daily_papers.json").read_text(encoding="utf-8"))
"""The 12 real daily-papers items (for HF_DATE)."""
HF_DATE = "2022-05-02"
PWC_TRENDING = json.loads((FIXTURES / "pwc" / "trending.json").read_text(encoding="utf-8"))

MODES = ("ok", "empty", "500", "429", "hang", "invalid_json", "wrong_shape", "no_id")
"""ok: the fixture | empty: [] | 500 / 429: that status | hang: no answer until teardown |
invalid_json: a 200 that is not JSON | wrong_shape: a JSON object where a list belongs |
no_id: the fixture plus items without an arXiv id / with an invalid one."""


def hf_items_without_id() -> list[dict[str, Any]]:
    """Daily-papers items that must be skipped: ``paper.id`` missing, and not an arXiv id."""
    missing = copy.deepcopy(HF_DAILY[0])
    del missing["paper"]["id"]
    missing["paper"]["title"] = missing["title"] = "An item without an id"
    invalid = copy.deepcopy(HF_DAILY[1])
    invalid["paper"]["id"] = "not-an-arxiv-id"
    invalid["paper"]["title"] = invalid["title"] = "An item with an invalid id"
    return [missing, invalid]


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    time: float
    """time.monotonic() when the request arrived."""
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers, names lower-cased."""

    def arg(self, name: str) -> str | None:
        return self.query.get(name, [None])[0]


@dataclass
class FakeJsonApi:
    """One JSON endpoint at ``url + endpoint``; subclasses choose the bodies."""

    endpoint: str = ""
    url: str = ""
    """Base URL to give the client, e.g. http://127.0.0.1:PORT/api."""
    mode: str = "ok"
    fail_times: int = 0
    """Answer 500 this many times first, then go by the mode."""
    retry_after: str | None = None
    """Retry-After header sent with mode "429"."""
    hang_seconds: float = 5.0
    """How long mode "hang" stalls before closing without an answer; teardown cuts it short."""
    requests: list[RecordedRequest] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mode_for(self, request: RecordedRequest) -> str:
        return self.mode

    def body(self, mode: str, request: RecordedRequest) -> Any:
        raise NotImplementedError


@dataclass
class FakeHuggingFace(FakeJsonApi):
    """``GET /api/daily_papers?date=…``: the real fixture for ``fixture_date``, [] otherwise."""

    endpoint: str = "/api/daily_papers"
    fixture_date: str = HF_DATE
    day_modes: dict[str, str] = field(default_factory=dict)
    """Mode per date (YYYY-MM-DD), overriding ``mode``."""
    day_bodies: dict[str, Any] = field(default_factory=dict)
    """JSON served for a date in mode "ok", instead of the fixture / []."""

    def mode_for(self, request: RecordedRequest) -> str:
        return self.day_modes.get(request.arg("date") or "", self.mode)

    def body(self, mode: str, request: RecordedRequest) -> Any:
        day = request.arg("date") or ""
        if day in self.day_bodies:
            items = self.day_bodies[day]
        else:
            items = copy.deepcopy(HF_DAILY) if day == self.fixture_date else []
        if mode == "wrong_shape":
            return {"error": "Invalid date"}
        return [*items, *hf_items_without_id()] if mode == "no_id" else items

    @property
    def dates(self) -> list[str | None]:
        return [r.arg("date") for r in self.requests]


@dataclass
class FakePapersWithCode(FakeJsonApi):
    """``GET /api/v1/papers/trending``: the fixture list (it holds one item without an id)."""

    endpoint: str = "/api/v1/papers/trending"
    wrap: bool = False
    """Answer ``{"count": n, "results": [...]}`` instead of a bare list."""
    items: list[Any] | None = None
    """Items to serve instead of the fixture."""

    def body(self, mode: str, request: RecordedRequest) -> Any:
        items = copy.deepcopy(PWC_TRENDING if self.items is None else self.items)
        if mode == "no_id":
            items.append({"arxiv_id": "2213.99999", "title": "An impossible month"})
        if mode == "wrong_shape":
            return {"detail": "Not found."}
        return {"count": len(items), "results": items} if self.wrap else items


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        record = RecordedRequest(
            parts.path,
            parse_qs(parts.query),
            time.monotonic(),
            {k.lower(): v for k, v in self.headers.items()},
        )
        with fake.lock:
            fake.requests.append(record)
            failing = fake.fail_times > 0
            fake.fail_times = max(0, fake.fail_times - 1)
        mode = fake.mode_for(record)
        if parts.path != fake.endpoint:
            self._send(404, b'{"error": "not found"}')
        elif failing or mode == "500":
            self._send(500, b'{"error": "Internal Server Error"}')
        elif mode == "429":
            headers = {"Retry-After": fake.retry_after} if fake.retry_after else {}
            self._send(429, b'{"error": "Too Many Requests"}', headers)
        elif mode == "hang":
            fake.stopping.wait(fake.hang_seconds)
        elif mode == "invalid_json":
            self._send(200, b"<html><body>Bad gateway</body></html>")
        else:
            body = [] if mode == "empty" else fake.body(mode, record)
            self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # HF asks 7 days at once; the default backlog of 5 can drop SYNs
    fake: FakeJsonApi

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that gave up (timeouts) make writes fail; that is expected here


def serve(fake: FakeJsonApi, prefix: str) -> Iterator[FakeJsonApi]:
    """Run ``fake`` on 127.0.0.1 until the generator is closed; ``fake.url`` ends in prefix."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_hf() -> Iterator[FakeHuggingFace]:
    yield from serve(FakeHuggingFace(), "/api")  # type: ignore[misc]


@pytest.fixture
def fake_pwc() -> Iterator[FakePapersWithCode]:
    yield from serve(FakePapersWithCode(), "/api/v1")  # type: ignore[misc]
