"""The offline demo: its bundled catalog served to the bot's real clients, and a whole week in
the console against it, with every connection off 127.0.0.1 refused."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from adapters.cli import built_core
from adapters.console.chat import ConsoleChat
from adapters.demo import DemoSites, demo_settings, demo_sites, load_catalog
from bot.clock import SystemClock
from bot.config import Settings
from bot.drafting.draft import Hints
from bot.drafting.drafter import Drafter
from bot.drafting.pages import PaperPages
from bot.sources import SourceUnavailable
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.paperswithcode import PapersWithCodeSource
from bot.sources.politeness import LocalBudget
from bot.sources.trending import ArxivListingSource, TrendingChain
from bot.unit import Unit
from storage.db import Database
from storage.models import Paper

FIXTURES = Path(__file__).resolve().parent / "fixtures"
QUALITY_SET: dict[str, dict[str, Any]] = {
    paper["arxiv_id"]: paper
    for paper in json.loads((FIXTURES / "papers" / "papers.json").read_text("utf-8"))
}
CATALOG = load_catalog()
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def collapsed(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection and name lookup that is not this machine's loopback."""
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex
    getaddrinfo = socket.getaddrinfo

    def local(address: Any) -> bool:
        return not isinstance(address, tuple) or str(address[0]) in LOOPBACK

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if not local(address):
            raise AssertionError(f"the demo tried to reach {address!r}")
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if not local(address):
            raise AssertionError(f"the demo tried to reach {address!r}")
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and str(name) not in LOOPBACK:
            raise AssertionError(f"the demo tried to look up {name!r}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


def test_the_guard_refuses_other_hosts() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="tried to reach"):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(AssertionError, match="tried to look up"):
        socket.getaddrinfo("export.arxiv.org", 443)


@pytest.fixture
async def sites() -> Any:
    async with demo_sites() as running:
        yield running


def test_the_catalog_is_the_quality_sets_real_papers_verbatim() -> None:
    assert len(CATALOG) >= 12
    assert set(CATALOG.papers) == set(QUALITY_SET)
    for paper in CATALOG:
        fixture = QUALITY_SET[paper.arxiv_id]
        assert (paper.title, list(paper.authors), paper.abstract, paper.version) == (
            fixture["title"],
            fixture["authors"],
            fixture["abstract"],
            fixture["version"],
        )
        assert 'class="ltx_authors"' in paper.author_block
        assert paper.published <= paper.updated and paper.primary_category in paper.categories
    captured = {p.arxiv_id for p in CATALOG if p.atom_entry is not None}
    assert captured == {path.stem for path in (FIXTURES / "arxiv").glob("2*.xml")}
    assert {item["paper"]["id"] for item in CATALOG.daily_papers} == set(CATALOG.papers)


async def test_the_arxiv_client_gets_every_catalog_paper(sites: DemoSites) -> None:
    arxiv = ArxivSource(sites.arxiv_api_url, delay_seconds=0.0, timeout_seconds=2.0, num_retries=0)
    try:
        found = await arxiv.fetch([*CATALOG.papers, "2204.99999"])
        newest_cv = await ArxivListingSource(arxiv, max_results=3).trending(date.today(), ["cs.CV"])
    finally:
        await arxiv.aclose()
    assert set(found) == set(CATALOG.papers)  # the unknown id: not found, as on arXiv
    for arxiv_id, meta in found.items():
        paper = CATALOG.papers[arxiv_id]
        assert meta.title == paper.title
        assert meta.authors == paper.authors
        assert collapsed(meta.abstract) == collapsed(paper.abstract)
        assert meta.version == paper.version
        assert meta.primary_category == paper.primary_category
        assert meta.categories == paper.categories
    backdoors = found["2204.06974"]  # a captured entry, served as arXiv sent it
    assert backdoors.published == datetime(2022, 4, 14, 14, 55, 47, tzinfo=UTC)
    assert backdoors.abstract.count("\n\n") == 2  # its three paragraphs, as arXiv breaks them
    assert [paper.arxiv_id for paper in newest_cv] == ["2204.03458", "2204.00598", "2203.13131"]
    assert all(paper.source == "arxiv" for paper in newest_cv)


async def test_an_unknown_paper_is_an_empty_feed_and_a_404(sites: DemoSites) -> None:
    async with httpx.AsyncClient(timeout=2.0) as client:
        feed = await client.get(sites.arxiv_api_url, params={"id_list": "2204.99999"})
        page = await client.get(f"{sites.arxiv_html_url}/2204.99999v1")
        old = await client.get(f"{sites.ar5iv_url}/2204.06974v1")  # not the catalog's version
        pwc = await client.get(f"{sites.pwc_api_url}/papers/trending")
    assert feed.status_code == 200
    assert "<opensearch:totalResults>0</opensearch:totalResults>" in feed.text
    assert "<entry>" not in feed.text
    assert (page.status_code, old.status_code, pwc.status_code) == (404, 404, 404)


async def test_hugging_face_trends_the_catalog(sites: DemoSites) -> None:
    huggingface = HuggingFaceSource(sites.hf_api_url, timeout=2.0, retries=0)
    chain = TrendingChain(
        [huggingface, PapersWithCodeSource(sites.pwc_api_url, timeout=2.0, retries=0)]
    )
    try:
        source, papers = await chain.trending(date.today(), ["cs.LG"])
        with pytest.raises(SourceUnavailable, match="404"):
            await PapersWithCodeSource(sites.pwc_api_url, retries=0).trending(date.today(), [])
    finally:
        await chain.aclose()
    assert source == "huggingface"
    assert {paper.arxiv_id for paper in papers} == set(CATALOG.papers)
    assert [paper.score for paper in papers] == sorted((p.score for p in papers), reverse=True)
    for trending in papers:
        paper = CATALOG.papers[trending.arxiv_id]
        assert trending.metadata is not None
        assert trending.metadata.title == paper.title
        assert trending.metadata.authors == paper.authors
        assert collapsed(trending.metadata.abstract) == collapsed(paper.abstract)
    assert sum(1 for path in sites.served if "/hf/api/daily_papers?date=" in path) == 7


@pytest.mark.parametrize(
    ("arxiv_id", "institutions"),
    [
        ("1810.04805", ["Google AI Language"]),  # a real ar5iv author block
        ("2203.14465", ["Stanford University", "Google Research"]),  # numbered affiliations
        ("2204.06974", ["UC Berkeley", "MIT", "IAS"]),
    ],
)
async def test_a_draft_reads_the_affiliations_from_the_demo_html(
    sites: DemoSites, db: Database, arxiv_id: str, institutions: list[str]
) -> None:
    paper = CATALOG.papers[arxiv_id]
    pages = PaperPages(
        Unit(db, SystemClock()), LocalBudget(0.0), sites.arxiv_html_url, sites.ar5iv_url, timeout=2
    )
    drafter = Drafter(pages)
    try:
        row = Paper(
            arxiv_id=arxiv_id,
            version=paper.version,
            title=paper.title,
            authors=list(paper.authors),
            abstract=paper.abstract,
            fetched_at=None,  # type: ignore[arg-type]
        )
        facts = await drafter.facts(row, Hints())
        draft = await drafter.draft(facts, "en")
        missing = await pages.page("2204.99999", None, ())
    finally:
        await drafter.aclose()
    assert facts.page is not None and facts.page.found == "arxiv"
    assert all(any(name in found for found in draft.affiliations) for name in institutions)
    assert draft.sources["affiliations"] and draft.summary and draft.method
    assert (missing.found, missing.affiliations, missing.unavailable) == ("", (), False)
    assert f"200 /arxiv/html/{paper.versioned_id}" in sites.served


async def test_demo_settings_keep_everything_on_this_machine(sites: DemoSites) -> None:
    settings = Settings(
        _env_file=None,
        YOMIKAI_ARXIV_API_URL="https://export.arxiv.org/api/query",
        YOMIKAI_HF_API_URL="https://huggingface.co/api",
        YOMIKAI_LLM_BASE_URL="https://api.example.com/v1",
        YOMIKAI_LLM_MODEL="some-model",
        YOMIKAI_LLM_API_KEY="sk-secret",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_APP_TOKEN="xapp-1",
        DISCORD_BOT_TOKEN="d",
        YOMIKAI_TIMEZONE="Asia/Tokyo",
    )
    demo = demo_settings(settings, sites, "sqlite:////tmp/demo.db")
    assert demo.database_url == "sqlite:////tmp/demo.db"
    urls = [
        demo.arxiv_api_url,
        demo.arxiv_html_url,
        demo.ar5iv_url,
        demo.hf_api_url,
        demo.pwc_api_url,
    ]
    assert all(url.startswith(f"{sites.base_url}/") for url in urls)
    assert sites.base_url.startswith("http://127.0.0.1:")
    assert not demo.slack_enabled and not demo.discord_enabled and demo.slack_bot_token is None
    assert demo.slack_app_token is None and demo.llm_base_url is None and demo.llm_api_key is None
    assert demo.timezone == "Asia/Tokyo"  # what is not about the network stays
    assert settings.slack_bot_token is not None  # a copy: the settings given are unchanged


async def test_a_week_in_the_console_on_the_demo(
    sites: DemoSites, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``yomikai run --demo`` runs: the composition root's core, the console chat, the
    demo sites, with network settings in the environment that the demo must ignore."""
    for name, value in {
        "YOMIKAI_ARXIV_API_URL": "https://export.arxiv.org/api/query",
        "YOMIKAI_ARXIV_HTML_URL": "https://arxiv.org/html",
        "YOMIKAI_HF_API_URL": "https://huggingface.co/api",
        "YOMIKAI_LLM_BASE_URL": "https://api.example.com/v1",
        "YOMIKAI_LLM_MODEL": "some-model",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "DISCORD_BOT_TOKEN": "d",
    }.items():
        monkeypatch.setenv(name, value)
    settings = demo_settings(Settings(_env_file=None), sites, database_url)
    script = (
        "/yomikai setup papers 2\n"
        "/yomikai join\n"
        "/yomikai poll\n"
        "/nominate 2204.99999\n"  # asks the demo's arXiv API, which has no such paper
        "/nominate 1810.04805 the one everyone cites\n"
        "/yomikai open\n"
        "/vote 1\n"
        "/yomikai close\n"
    )
    out = io.StringIO()
    console = Console(file=out, width=160, color_system=None)
    async with built_core(settings) as core:
        chat = ConsoleChat(
            core, console, user="alice", stdin=io.StringIO(script), interactive=False
        )
        core.connect(chat)
        await core.start()
        try:
            await chat.run()
            assert core.drafts is not None
            deadline = time.monotonic() + 30
            while core.drafts.drafted < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert core.drafts.drafted == 2
            await chat.feed("/summary 1")
            await chat.feed("/summary 2")
        finally:
            await core.stop()
    text = out.getvalue()
    assert "Traceback" not in text and "nothing was changed" not in text
    assert "This channel now has a reading group" in text
    assert "Poll: 16 new trending papers from huggingface" in text
    assert "arXiv has no paper 2204.99999" in text
    assert "BERT: Pre-training of Deep Bidirectional Transformers" in text
    assert "Candidates for the next session" in text
    assert "Author affiliations (draft)" in text
    assert "Google AI Language" in text  # BERT's card, drafted from the demo's author block
    hits = "\n".join(sites.served)
    assert "/hf/api/daily_papers?date=" in hits and "id_list=2204.99999" in hits
    assert "200 /arxiv/html/1810.04805" in hits  # (polled from Hugging Face: no version)
