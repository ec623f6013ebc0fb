"""A fake OpenAI-compatible chat endpoint on 127.0.0.1 (``POST /v1/chat/completions``).

It answers with real chat.completion bodies. By default the answer is a valid card drafted from
the request's own title (in Japanese when the system prompt asks for Japanese); ``mode`` turns
it into garbage, a huge text, a slow answer, 429, 500, a refused ``response_format`` or none.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.fakes.http import running

MODEL = "fake-model-1"


def card_answer(request: dict[str, Any]) -> dict[str, Any]:
    """A valid card for the paper in ``request`` (its language from the system prompt)."""
    system = request["messages"][0]["content"]
    user = request["messages"][1]["content"]
    title = re.search(r"^Title: (.*)$", user, re.M)
    name = title.group(1).split(":")[0] if title else "Model"
    if "in Japanese" in system:
        return {
            "summary": f"{name} についての論文の要約です。",
            "purpose": "目的を日本語で述べます。",
            "results": "成果を日本語で述べます。",
            "method": "方法を日本語で述べます。",
            "model_name": name,
            "affiliations": ["Model University"],
            "translated_title": f"{name} の日本語タイトル",
            "translated_abstract": "要旨の全文を日本語に訳したものです。",
        }
    return {
        "summary": f"A summary of {name}.",
        "purpose": "The purpose, in English.",
        "results": "The results, in English.",
        "method": "The method, in English.",
        "model_name": name,
        "affiliations": ["Model University"],
        "translated_title": "",
        "translated_abstract": "",
    }


@dataclass
class Call:
    body: dict[str, Any]
    headers: dict[str, str]
    time: float
    ended: float = 0.0


@dataclass
class FakeModel:
    url: str = ""
    mode: str = "ok"
    """ok | garbage | huge | slow | 429 | 500 | hang | refuse_schema | mixed (garbage, then ok)."""
    delay: float = 0.0
    """Seconds every answer takes (mode "slow" and benchmarks)."""
    fail_times: int = 0
    """Answer ``mode`` this many times, then answer ok."""
    answer: Callable[[dict[str, Any]], dict[str, Any]] = card_answer
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def current(self) -> str:
        with self.lock:
            failing = self.fail_times == 0 or len(self.calls) <= self.fail_times
        return self.mode if failing else "ok"


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 100, "total_tokens": 200},
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        call = Call(body, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        with fake.lock:
            fake.calls.append(call)
        mode = fake.current()
        if fake.delay or mode == "slow":
            fake.stopping.wait(fake.delay or 2.0)
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
        elif mode == "hang":
            fake.stopping.wait(30)
            self.close_connection = True
        elif mode == "429":
            self._json(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
        elif mode == "500":
            self._json(500, {"error": {"message": "server error"}})
        elif mode == "refuse_schema" and body.get("response_format", {}).get("type") == (
            "json_schema"
        ):
            self._json(400, {"error": {"message": "response_format json_schema not supported"}})
        elif mode in ("garbage", "mixed"):
            self._json(200, completion("Sure! Here is the card: purpose is to do things."))
        elif mode == "huge":
            answer = fake.answer(body)
            answer["summary"] = "very long " * 20000
            self._json(200, completion(json.dumps(answer)))
        else:
            self._json(200, completion(json.dumps(fake.answer(body), ensure_ascii=False)))
        call.ended = time.monotonic()

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeModel


@contextmanager
def serve_model() -> Iterator[FakeModel]:
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakeModel(url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    server.fake = fake
    with running(server, fake.stopping):
        yield fake


@pytest.fixture
def fake_model() -> Iterator[FakeModel]:
    with serve_model() as fake:
        yield fake
