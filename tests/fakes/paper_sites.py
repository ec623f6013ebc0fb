"""Fake arxiv.org/html and ar5iv on 127.0.0.1, serving LaTeXML pages built from the fixtures.

``adapters/demo/catalog/html/<id>.html`` holds a paper's author block as LaTeXML renders it;
a page is that block inside the document frame arXiv serves (title, authors, abstract). A paper
listed in ``only_ar5iv`` answers 404 on the arXiv site (an older paper, as on arXiv today); a
paper ar5iv does not have is redirected to arXiv's abstract page, as ar5iv does.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.http import running

PAPERS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "papers"
AUTHOR_BLOCKS = Path(__file__).resolve().parents[2] / "adapters" / "demo" / "catalog" / "html"
"""The quality set's author blocks: the demo bundles the same files, so they are kept once."""
PAPERS: list[dict[str, Any]] = json.loads((PAPERS_DIR / "papers.json").read_text("utf-8"))
"""The quality set: real titles and abstracts, and what a reader would write for them."""
BY_ID = {paper["arxiv_id"]: paper for paper in PAPERS}


def author_block(arxiv_id: str) -> str:
    path = AUTHOR_BLOCKS / f"{arxiv_id.replace('/', '_')}.html"
    return path.read_text("utf-8") if path.exists() else ""


def latexml_page(arxiv_id: str, block: str | None = None) -> str:
    """A paper's page as arXiv serves it: LaTeXML's frame around title, authors and abstract."""
    paper = BY_ID.get(arxiv_id, {"title": arxiv_id, "abstract": ""})
    authors = author_block(arxiv_id) if block is None else block
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(paper['title'])}</title></head><body>"
        '<div class="ltx_page_main"><div class="ltx_page_content">'
        '<article class="ltx_document ltx_authors_1line">'
        f'<h1 class="ltx_title ltx_title_document">{html.escape(paper["title"])}</h1>'
        f"{authors}"
        '<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>'
        f'<p class="ltx_p">{html.escape(paper["abstract"])}</p></div>'
        '<section class="ltx_section"><h2 class="ltx_title ltx_title_section">1 Introduction'
        '</h2><div class="ltx_para"><p class="ltx_p">The introduction.</p></div></section>'
        "</article></div></div></body></html>"
    )


@dataclass
class Hit:
    site: str
    path: str
    time: float
    ended: float = 0.0


@dataclass
class FakePaperSites:
    base: str = ""
    mode: str = "ok"
    """ok | 500 | hang | garbage (a 200 that is no paper) | 404 (everywhere)."""
    only_ar5iv: set[str] = field(default_factory=set)
    pages: dict[str, str] = field(default_factory=dict)
    """Page bodies to serve instead of the fixture's (by arXiv id)."""
    hang_seconds: float = 3.0
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def arxiv_url(self) -> str:
        return f"{self.base}/arxiv/html"

    @property
    def ar5iv_url(self) -> str:
        return f"{self.base}/ar5iv/html"

    def answer(self, site: str, paper: str) -> tuple[int, str]:
        arxiv_id = re.sub(r"v\d+$", "", paper)
        if self.mode == "500":
            return 500, "<html><body>Internal error</body></html>"
        if self.mode == "garbage":
            return 200, "<html><body><p>Please enable JavaScript.</p></body></html>"
        missing = arxiv_id not in self.pages and arxiv_id not in BY_ID
        if self.mode == "404" or missing or (site == "arxiv" and arxiv_id in self.only_ar5iv):
            if site == "ar5iv":  # as ar5iv does: off to the abstract page
                return 307, f"https://arxiv.org/abs/{arxiv_id}"
            return 404, f"<html><body><h1>No HTML for '{html.escape(paper)}'</h1></body></html>"
        if arxiv_id in self.pages:
            return 200, self.pages[arxiv_id]
        return 200, latexml_page(arxiv_id)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = self.path.strip("/").split("/", 2)
        hit = Hit(parts[0] if parts else "", self.path, time.monotonic())
        with fake.lock:
            fake.hits.append(hit)
        if len(parts) != 3 or parts[1] != "html":
            self._send(404, "not found")
        elif fake.mode == "hang":
            fake.stopping.wait(fake.hang_seconds)
            self.close_connection = True
        else:
            status, body = fake.answer(parts[0], parts[2])
            self._send(status, body)
        hit.ended = time.monotonic()

    def _send(self, status: int, body: str) -> None:
        if status == 307:  # body: where to
            self.send_response(status)
            self.send_header("Location", body)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakePaperSites


@contextmanager
def serve_paper_sites() -> Iterator[FakePaperSites]:
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakePaperSites(base=f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake
    with running(server, fake.stopping):
        yield fake


@pytest.fixture
def paper_sites() -> Iterator[FakePaperSites]:
    with serve_paper_sites() as fake:
        yield fake
