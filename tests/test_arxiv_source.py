"""ArxivSource against the fake arXiv API in tests/fakes/arxiv_server.py (never the internet)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import arxiv
import pytest

from bot.sources import SourceUnavailable
from bot.sources.arxiv_source import ArxivSource, _to_metadata
from bot.sources.politeness import SharedBudget
from storage.db import Database
from tests.fakes.arxiv_server import FakeArxiv

DELAY = 0.1
TIMEOUT = 0.5
SIX = ["2204.06974", "2203.15556", "2204.00598", "2203.14465", "2203.13131", "2204.03458"]
NEWEST_FIRST = ["2204.06974", "2204.03458", "2204.00598", "2203.15556", "2203.14465", "2203.13131"]

pytestmark = pytest.mark.timeout(15)


@pytest.fixture
async def make_source(fake_arxiv: FakeArxiv) -> AsyncIterator[Callable[..., ArxivSource]]:
    sources: list[ArxivSource] = []

    def make(url: str | None = None, **kwargs: float) -> ArxivSource:
        options = {"delay_seconds": DELAY, "timeout_seconds": TIMEOUT, **kwargs}
        sources.append(ArxivSource(url or fake_arxiv.url, **options))  # type: ignore[arg-type]
        return sources[-1]

    yield make
    for source in sources:
        await source.aclose()


@pytest.fixture
def source(make_source: Callable[..., ArxivSource]) -> ArxivSource:
    return make_source()


async def test_fetch_one_paper(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    papers = await source.fetch(["2204.06974"])

    paper = papers["2204.06974"]
    assert paper.title == "Planting Undetectable Backdoors in Machine Learning Models"
    assert paper.authors == (
        "Shafi Goldwasser",
        "Michael P. Kim",
        "Vinod Vaikuntanathan",
        "Or Zamir",
    )
    assert paper.version == 2
    assert paper.primary_category == "cs.LG"
    assert paper.categories == ("cs.LG", "cs.CR")
    assert paper.published == datetime(2022, 4, 14, 14, 55, 47, tzinfo=UTC)
    assert paper.updated == datetime(2024, 11, 9, 21, 36, 18, tzinfo=UTC)
    assert paper.affiliations == ()
    paragraphs = paper.abstract.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("Given the computational cost")
    assert paragraphs[1].startswith("First, we show how to plant a backdoor")
    assert paragraphs[2].endswith("certifying adversarial robustness.")
    assert all("\n" not in p and "  " not in p and p == p.strip() for p in paragraphs)
    assert paper.url == "https://arxiv.org/abs/2204.06974"
    assert [r.ids for r in fake_arxiv.requests] == [["2204.06974"]]


async def test_batch_of_six_is_one_request(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    papers = await source.fetch(SIX)

    assert list(papers) == SIX
    assert papers["2203.15556"].version == 1
    assert "4$\\times$ more more data" in papers["2203.15556"].abstract
    assert len(fake_arxiv.requests) == 1
    assert fake_arxiv.requests[0].path == "/api/query"
    assert fake_arxiv.requests[0].ids == SIX


async def test_batches_of_two_are_three_requests(make_source, fake_arxiv: FakeArxiv) -> None:
    papers = await make_source(batch_size=2).fetch(SIX)

    assert sorted(papers) == sorted(SIX)
    assert [r.ids for r in fake_arxiv.requests] == [SIX[0:2], SIX[2:4], SIX[4:6]]


async def test_unknown_id_is_absent(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    assert await source.fetch(["2204.99999"]) == {}
    assert len(fake_arxiv.requests) == 1


async def test_known_and_unknown_mixed(source: ArxivSource) -> None:
    papers = await source.fetch(["2204.99999", "2204.00598", "2301.00001", "2203.13131"])

    assert sorted(papers) == ["2203.13131", "2204.00598"]


async def test_no_ids_no_request(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    assert await source.fetch([]) == {}
    assert fake_arxiv.requests == []


async def test_503_always_is_unavailable_after_retries(make_source, fake_arxiv) -> None:
    fake_arxiv.mode = "503"
    with pytest.raises(SourceUnavailable, match="503"):
        await make_source(num_retries=2).fetch(["2204.06974"])
    assert len(fake_arxiv.requests) == 3


async def test_503_once_then_ok(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.fail_times = 1
    papers = await source.fetch(["2204.06974"])

    assert list(papers) == ["2204.06974"]
    assert len(fake_arxiv.requests) == 2
    assert fake_arxiv.requests[1].time - fake_arxiv.requests[0].time >= DELAY


async def test_hung_server_times_out(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.mode = "hang"
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="in time"):
        await source.fetch(["2204.06974"])
    elapsed = time.monotonic() - started
    # arxiv retries ConnectionError but not ReadTimeout: one request, one timeout.
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT * 3
    assert len(fake_arxiv.requests) == 1


@pytest.mark.parametrize(
    "body",
    [None, b"<html><body>Service temporarily down</body></html>", b""],
    ids=["truncated-feed", "html-page", "empty-body"],
)
async def test_malformed_feed_is_unavailable(source, fake_arxiv, body: bytes | None) -> None:
    fake_arxiv.mode = "malformed"
    fake_arxiv.malformed_body = body
    with pytest.raises(SourceUnavailable, match="malformed"):
        await source.fetch(["2204.06974"])


async def test_connection_refused_is_unavailable(make_source) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = make_source(f"http://127.0.0.1:{port}/api/query", delay_seconds=0.01)
    with pytest.raises(SourceUnavailable, match="reached"):
        await source.fetch(["2204.06974"])


async def test_sequential_fetches_are_spaced(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    await source.fetch(["2204.06974"])
    await source.fetch(["2203.15556"])

    first, second = fake_arxiv.requests
    assert second.time - first.time >= DELAY


async def test_spacing_holds_after_a_failure(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.mode = "malformed"
    with pytest.raises(SourceUnavailable):
        await source.fetch(["2204.06974"])
    fake_arxiv.mode = "ok"
    await source.fetch(["2204.06974"])

    first, second = fake_arxiv.requests
    assert second.time - first.time >= DELAY


async def test_fetches_asked_at_once_are_one_request(source, fake_arxiv: FakeArxiv) -> None:
    results = await asyncio.gather(*(source.fetch([paper_id]) for paper_id in SIX[:5]))

    assert [list(r) for r in results] == [[paper_id] for paper_id in SIX[:5]]
    assert [r.ids for r in fake_arxiv.requests] == [SIX[:5]]


async def test_ids_asked_while_waiting_for_the_turn_go_in_the_next_request(
    source, fake_arxiv: FakeArxiv
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def later(n: int, paper_id: str) -> dict[str, object]:
        await asyncio.sleep(0.01 * (n + 1))  # all within the first request's politeness wait
        return dict(await source.fetch([paper_id]))

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    results = await asyncio.gather(
        source.fetch([SIX[0]]), *(later(n, paper_id) for n, paper_id in enumerate(SIX[1:5]))
    )
    elapsed = time.monotonic() - started
    ticking.cancel()

    assert [list(r) for r in results] == [[paper_id] for paper_id in SIX[:5]]
    first, second = fake_arxiv.requests
    assert (first.ids, second.ids) == ([SIX[0]], SIX[1:5])
    assert first.ended is not None and second.time - first.ended >= DELAY
    assert ticks >= elapsed / 0.01 / 3  # the loop kept running while threads waited


async def test_a_failed_request_fails_every_fetch_waiting_for_it(make_source, fake_arxiv) -> None:
    fake_arxiv.mode = "503"
    source = make_source(num_retries=0)
    results = await asyncio.gather(
        *(source.fetch([paper_id]) for paper_id in SIX[:3]), return_exceptions=True
    )

    assert all(isinstance(r, SourceUnavailable) for r in results)
    assert [r.ids for r in fake_arxiv.requests] == [SIX[:3]]
    fake_arxiv.mode = "ok"
    assert list(await source.fetch([SIX[0]])) == [SIX[0]]  # nothing left waiting


async def test_event_loop_responsive_while_request_hangs(source, fake_arxiv) -> None:
    fake_arxiv.mode = "hang"
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    with pytest.raises(SourceUnavailable):
        await source.fetch(["2204.06974"])
    ticking.cancel()
    assert ticks >= 15  # ~50 possible during a 0.5 s timeout


async def test_cancelled_fetch_keeps_requests_serialized(source, fake_arxiv) -> None:
    fake_arxiv.mode = "hang"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(source.fetch(["2204.06974"]), 0.1)
    fake_arxiv.mode = "ok"
    assert list(await source.fetch(["2203.15556"])) == ["2203.15556"]

    hung, ok = fake_arxiv.requests
    assert ok.time - hung.time >= TIMEOUT  # waited for the abandoned thread to give up


async def test_listing_newest_first(source: ArxivSource, fake_arxiv: FakeArxiv) -> None:
    papers = await source.listing(["cs.LG", "cs.CL"])

    assert [p.arxiv_id for p in papers] == NEWEST_FIRST
    published = [p.published for p in papers]
    assert published == sorted(published, reverse=True)
    (request,) = fake_arxiv.requests
    assert request.query["search_query"] == ["cat:cs.LG OR cat:cs.CL"]
    assert request.query["sortBy"] == ["submittedDate"]
    assert request.query["sortOrder"] == ["descending"]


async def test_listing_pages_and_limits(make_source, fake_arxiv: FakeArxiv) -> None:
    papers = await make_source(batch_size=2).listing(["cs.LG"], max_results=5)

    assert [p.arxiv_id for p in papers] == NEWEST_FIRST[:5]
    assert [r.query["start"] for r in fake_arxiv.requests] == [["0"], ["2"], ["4"]]


async def test_logs_batches_and_failures(make_source, fake_arxiv, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.sources.arxiv_source")
    source = make_source(batch_size=4)
    await source.fetch(SIX)
    fake_arxiv.mode = "503"
    with pytest.raises(SourceUnavailable):
        await source.fetch(["2204.06974"])

    ours = [r for r in caplog.records if r.name == "bot.sources.arxiv_source"]
    assert [(r.levelname, r.getMessage()) for r in ours] == [
        ("INFO", "arXiv: requesting 4 ids"),
        ("INFO", "arXiv: requesting 2 ids"),
        ("INFO", "arXiv: requesting 1 ids"),
        ("WARNING", "arXiv request failed: arXiv answered HTTP 503"),
    ]


def test_mapping_of_old_ids_affiliations_and_wrapped_abstracts() -> None:
    result = arxiv.Result(
        entry_id="http://arxiv.org/abs/hep-th/9901001v3",
        updated=datetime(1999, 2, 1, 12, 0),
        published=datetime(1999, 1, 1, 12, 0, tzinfo=UTC),
        title="A  title\n  wrapped",
        authors=[
            arxiv.Result.Author("A. Author", ["Univ. X", "Lab Y"]),
            arxiv.Result.Author("B. Author", ["Lab Y"]),
            arxiv.Result.Author("C. Author"),
        ],
        summary="  First paragraph, hard-wrapped\nat eighty columns.\n  Second one.\n",
        primary_category="hep-th",
        categories=["hep-th", "gr-qc"],
    )

    paper = _to_metadata(result)

    assert (paper.arxiv_id, paper.version) == ("hep-th/9901001", 3)
    assert paper.title == "A title wrapped"
    assert paper.affiliations == ("Univ. X", "Lab Y")
    assert paper.abstract == "First paragraph, hard-wrapped at eighty columns.\n\nSecond one."
    assert paper.updated == datetime(1999, 2, 1, 12, 0, tzinfo=UTC)


async def test_the_shared_budget_batches_too(make_source, fake_arxiv, db: Database) -> None:
    """The installation's budget (in the database) says when its next turn is free."""
    source = make_source(budget=SharedBudget(db, "arxiv", spacing=0.3))
    await source.fetch([SIX[0]])
    assert source.budget.free_in() > 0.1

    async def later(n: int, paper_id: str) -> list[str]:
        await asyncio.sleep(0.02 * (n + 1))
        return list(await source.fetch([paper_id]))

    results = await asyncio.gather(*(later(n, paper_id) for n, paper_id in enumerate(SIX[1:])))

    assert results == [[paper_id] for paper_id in SIX[1:]]
    first, second = fake_arxiv.requests
    assert second.ids == SIX[1:]
    assert first.ended is not None and second.time - first.ended >= 0.3 - 0.01
    assert source.budget.free_in() > 0.1
