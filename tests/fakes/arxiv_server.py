"""A fake arXiv API on 127.0.0.1 serving the Atom fixtures, switchable into failure modes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "arxiv"
_ENTRY = re.compile(r"  <entry>.*?</entry>\n", re.DOTALL)
_PUBLISHED = re.compile(r"<published>([^<]+)</published>")


def _load_entries() -> dict[str, str]:
    entries = {}
    for path in sorted(FIXTURES.glob("*.xml")):
        if path.stem not in {"batch", "empty"}:
            (entry,) = _ENTRY.findall(path.read_text(encoding="utf-8"))
            entries[path.stem] = entry
    return entries


ENTRIES = _load_entries()
"""Fixture `<entry>` elements (exact text, two-space indented), by canonical id."""
FEED_TEMPLATE = (FIXTURES / "empty.xml").read_text(encoding="utf-8")


def made_up_entry(arxiv_id: str, title: str) -> str:
    """An `<entry>` like the fixtures' for a paper they do not have (for ``FakeArxiv.extra``)."""
    entry = ENTRIES["2204.06974"].replace("2204.06974", arxiv_id)
    return re.sub(r"<title>[^<]*</title>", f"<title>{escape(title)}</title>", entry, count=1)


def make_feed(query: str, entries: list[str], total: int, start: int, per_page: int) -> str:
    """An Atom feed with the fixtures' header around ``entries``, like export.arxiv.org's."""
    feed = re.sub(
        r"<title>.*?</title>", f"<title>arXiv Query: {escape(query)}</title>", FEED_TEMPLATE
    )
    for name, value in (("totalResults", total), ("startIndex", start), ("itemsPerPage", per_page)):
        feed = re.sub(rf"(<opensearch:{name}>)\d+", rf"\g<1>{value}", feed)
    return feed.replace("</feed>", "".join(entries) + "</feed>")


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    time: float
    """time.monotonic() when the request arrived."""
    ended: float | None = None
    """time.monotonic() when the answer was sent (None while hanging)."""

    @property
    def ids(self) -> list[str]:
        value = self.query.get("id_list", [""])[0]
        return value.split(",") if value else []


@dataclass
class FakeArxiv:
    url: str = ""
    mode: str = "ok"
    """"ok" | "503" | "hang" | "malformed"."""
    fail_times: int = 0
    """Answer 503 this many times, then go by ``mode``."""
    hang_seconds: float = 3.0
    """How long mode "hang" stalls before closing without an answer; teardown cuts it short."""
    malformed_body: bytes | None = None
    """Body for mode "malformed"; default: a feed cut off in the middle of an entry."""
    extra: dict[str, str] = field(default_factory=dict)
    """More `<entry>` elements by canonical id (``made_up_entry``), served beside the fixtures."""
    requests: list[RecordedRequest] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(self, query: dict[str, list[str]]) -> str:
        def arg(name: str, default: str = "") -> str:
            return query.get(name, [default])[0]

        start, per_page = int(arg("start", "0")), int(arg("max_results", "10"))
        entries = ENTRIES | self.extra
        if arg("id_list"):
            ids = [re.sub(r"v\d+$", "", i) for i in arg("id_list").split(",")]
            found = [entries[i] for i in ids if i in entries]
        elif arg("search_query").startswith("cat:"):
            found = sorted(entries.values(), key=lambda e: _PUBLISHED.findall(e)[0], reverse=True)
        else:
            found = []
        text = "&".join(f"{k}={v[0]}" for k, v in query.items())
        page = found[start : start + per_page]
        return make_feed(text, page, len(found), start, per_page)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        record = RecordedRequest(parts.path, parse_qs(parts.query), time.monotonic())
        with fake.lock:
            fake.requests.append(record)
            failing = fake.fail_times > 0 or fake.mode == "503"
            fake.fail_times = max(0, fake.fail_times - 1)
        if parts.path != "/api/query":
            self._send(404, b"not found", "text/plain")
        elif failing:
            self._send(503, b"Service Unavailable", "text/plain")
        elif fake.mode == "hang":
            fake.stopping.wait(fake.hang_seconds)
            return
        else:
            body = fake.feed(record.query).encode("utf-8")
            if fake.mode == "malformed":
                body = fake.malformed_body or body[: body.index(b"<summary>") + 40]
            self._send(200, body, "application/atom+xml; charset=utf-8")
        record.ended = time.monotonic()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeArxiv

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that gave up (timeouts) make writes fail; that is expected here


@pytest.fixture
def fake_arxiv() -> Iterator[FakeArxiv]:
    with serve_fake_arxiv() as fake:
        yield fake


@contextmanager
def serve_fake_arxiv() -> Iterator[FakeArxiv]:
    """The fake arXiv on a free port of 127.0.0.1 while the block runs (tests, benchmarks)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeArxiv(url=f"http://127.0.0.1:{server.server_address[1]}/api/query")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.fake
    finally:
        server.fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
