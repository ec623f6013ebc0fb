"""Trending sources against fake HF / PwC / arXiv APIs on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import copy
import logging
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.sources import SourceUnavailable
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.paperswithcode import PapersWithCodeSource
from bot.sources.trending import ArxivListingSource, TrendingChain, TrendingPaper
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.trending_servers import HF_DAILY, FakeHuggingFace, FakePapersWithCode

TIMEOUT = 0.5
RETRIES = 2
BACKOFF = 0.01
TODAY = date(2022, 5, 4)  # the HF fixture is served for 2022-05-02, two days earlier
WEEK = [(TODAY - timedelta(days=n)).isoformat() for n in range(7)]
BY_UPVOTES = [
    "2201.11903", "2203.02155", "2203.15556", "2203.14465", "2204.06125", "2204.02311",
    "2204.14198", "2204.06974", "2203.11171", "2204.03458", "2204.00598", "2203.13131",
]  # fmt: skip
NEWEST_FIRST = ["2204.06974", "2204.03458", "2204.00598", "2203.15556", "2203.14465", "2203.13131"]

pytestmark = pytest.mark.timeout(15)


@pytest.fixture
async def hf(fake_hf: FakeHuggingFace) -> AsyncIterator[HuggingFaceSource]:
    source = HuggingFaceSource(fake_hf.url, timeout=TIMEOUT, retries=RETRIES, backoff=BACKOFF)
    yield source
    await source.aclose()


@pytest.fixture
async def pwc(fake_pwc: FakePapersWithCode) -> AsyncIterator[PapersWithCodeSource]:
    source = PapersWithCodeSource(fake_pwc.url, timeout=TIMEOUT, retries=RETRIES, backoff=BACKOFF)
    yield source
    await source.aclose()


@pytest.fixture
async def arxiv_listing(fake_arxiv: FakeArxiv) -> AsyncIterator[ArxivListingSource]:
    arxiv = ArxivSource(fake_arxiv.url, delay_seconds=0.0, timeout_seconds=TIMEOUT, num_retries=0)
    yield ArxivListingSource(arxiv)
    await arxiv.aclose()


@pytest.fixture
async def chain(
    hf: HuggingFaceSource, pwc: PapersWithCodeSource, arxiv_listing: ArxivListingSource
) -> TrendingChain:
    return TrendingChain([hf, pwc, arxiv_listing])


def by_id(papers: list[TrendingPaper]) -> dict[str, TrendingPaper]:
    return {paper.arxiv_id: paper for paper in papers}


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno >= logging.INFO
    ]


# Hugging Face


async def test_hf_real_json(hf: HuggingFaceSource) -> None:
    papers = await hf.trending(TODAY, ["cs.LG"])

    assert [p.arxiv_id for p in papers] == BY_UPVOTES
    assert [p.score for p in papers] == sorted((p.score for p in papers), reverse=True)
    socratic = by_id(papers)["2204.00598"]
    assert socratic.source == "huggingface"
    assert socratic.score == 54.0
    assert socratic.upvotes == 54
    assert socratic.num_comments == 3
    assert socratic.github_repo == "https://github.com/google-research/google-research"
    assert socratic.ai_summary is not None
    assert socratic.ai_summary.startswith("Socratic Models compose pretrained")
    assert socratic.ai_keywords[:2] == ("Socratic Models", "zero-shot composition")
    assert len(socratic.ai_keywords) == 7
    assert socratic.organizations == ("Google",)
    meta = socratic.metadata
    assert meta is not None
    assert meta.arxiv_id == "2204.00598"
    assert meta.title == "Socratic Models: Composing Zero-Shot Multimodal Reasoning with Language"
    assert meta.authors[0] == "Andy Zeng"
    assert meta.published == datetime(2022, 4, 1, 17, 43, 13, tzinfo=UTC)
    assert "\n" not in meta.abstract
    assert meta.abstract.startswith('Large pretrained (e.g., "foundation") models exhibit distinct')
    assert "capabilities depending on the domain" in meta.abstract  # the wrap is joined
    chinchilla = by_id(papers)["2203.15556"]
    assert chinchilla.github_repo is None
    assert chinchilla.organizations == ()


async def test_hf_abstract_paragraphs_match_arxiv(hf: HuggingFaceSource, fake_arxiv: FakeArxiv):
    papers = await hf.trending(TODAY, [])
    arxiv = ArxivSource(fake_arxiv.url, delay_seconds=0.0, timeout_seconds=TIMEOUT, num_retries=0)
    try:
        from_arxiv = await arxiv.fetch(["2204.06974"])
    finally:
        await arxiv.aclose()

    meta = by_id(papers)["2204.06974"].metadata
    assert meta is not None
    assert len(meta.abstract.split("\n\n")) == 3
    assert meta.abstract == from_arxiv["2204.06974"].abstract
    assert meta.authors == from_arxiv["2204.06974"].authors


async def test_hf_asks_for_seven_days_trending(hf: HuggingFaceSource, fake_hf: FakeHuggingFace):
    await hf.trending(TODAY, [])

    assert sorted(fake_hf.dates, reverse=True) == WEEK
    assert WEEK[0] == "2022-05-04" and WEEK[-1] == "2022-04-28"
    for request in fake_hf.requests:
        assert request.path == "/api/daily_papers"
        assert request.arg("sort") == "trending"
        assert "yomikai" in request.headers["user-agent"]


async def test_hf_paper_on_two_days_counted_once_with_its_highest_upvotes(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
) -> None:
    again = copy.deepcopy(next(i for i in HF_DAILY if i["paper"]["id"] == "2203.15556"))
    again["paper"]["upvotes"] = 150  # a day later, a few more votes
    fake_hf.day_bodies["2022-05-03"] = [again]

    papers = await hf.trending(TODAY, [])

    assert len(papers) == 12
    assert [p.arxiv_id for p in papers].count("2203.15556") == 1
    chinchilla = by_id(papers)["2203.15556"]
    assert (chinchilla.score, chinchilla.upvotes) == (150.0, 150)


async def test_hf_empty_days_are_skipped_quietly(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.day_modes[WEEK[0]] = "empty"
    caplog.set_level(logging.INFO)

    papers = await hf.trending(TODAY, [])

    assert len(papers) == 12
    assert lines(caplog, "bot.sources.huggingface") == []


async def test_hf_all_days_empty_is_an_empty_list(hf: HuggingFaceSource, fake_hf: FakeHuggingFace):
    fake_hf.mode = "empty"

    assert await hf.trending(TODAY, []) == []
    assert len(fake_hf.requests) == 7


async def test_hf_failing_days_are_skipped_with_one_line(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.day_modes.update({WEEK[0]: "500", WEEK[5]: "invalid_json", WEEK[6]: "wrong_shape"})
    caplog.set_level(logging.INFO)

    papers = await hf.trending(TODAY, [])

    assert len(papers) == 12
    (line,) = lines(caplog, "bot.sources.huggingface")
    assert "skipped 3 of 7 days" in line
    assert f"{WEEK[0]}: answered HTTP 500" in line
    assert f"{WEEK[5]}: answered with a body that is not JSON" in line
    assert WEEK[6] in line
    assert fake_hf.dates.count(WEEK[0]) == RETRIES + 1  # 5xx is retried
    assert fake_hf.dates.count(WEEK[5]) == 1  # a bad body is not


async def test_hf_500_everywhere_is_unavailable(hf: HuggingFaceSource, fake_hf: FakeHuggingFace):
    fake_hf.mode = "500"

    with pytest.raises(SourceUnavailable, match="answered HTTP 500 on all 7 days"):
        await hf.trending(TODAY, [])
    assert len(fake_hf.requests) == 7 * (RETRIES + 1)


async def test_hf_transient_500_is_retried(hf: HuggingFaceSource, fake_hf: FakeHuggingFace):
    fake_hf.fail_times = 2

    papers = await hf.trending(TODAY, [])

    assert len(papers) == 12
    assert len(fake_hf.requests) == 7 + 2


async def test_hf_429_honours_short_retry_after_and_gives_up_on_long_one(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
) -> None:
    fake_hf.mode, fake_hf.retry_after = "429", "0"
    with pytest.raises(SourceUnavailable, match="HTTP 429"):
        await hf.trending(TODAY, [])
    assert len(fake_hf.requests) == 7 * (RETRIES + 1)

    fake_hf.requests.clear()
    fake_hf.retry_after = "3600"
    with pytest.raises(SourceUnavailable, match=r"retry after 3600 s"):
        await hf.trending(TODAY, [])
    assert len(fake_hf.requests) == 7


async def test_hf_hanging_is_unavailable_within_the_timeouts(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
) -> None:
    fake_hf.mode = "hang"
    started = time.monotonic()

    with pytest.raises(SourceUnavailable, match="did not answer in time"):
        await hf.trending(TODAY, [])

    elapsed = time.monotonic() - started
    assert TIMEOUT * (RETRIES + 1) * 0.9 <= elapsed < TIMEOUT * (RETRIES + 1) + 0.5
    assert len(fake_hf.requests) == 7 * (RETRIES + 1)  # the days are asked concurrently


@pytest.mark.parametrize("mode", ["invalid_json", "wrong_shape"])
async def test_hf_garbage_everywhere_is_unavailable(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
    mode: str,
) -> None:
    fake_hf.mode = mode

    with pytest.raises(SourceUnavailable, match="on all 7 days"):
        await hf.trending(TODAY, [])


async def test_hf_items_without_an_arxiv_id_are_skipped(
    hf: HuggingFaceSource,
    fake_hf: FakeHuggingFace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.mode = "no_id"
    caplog.set_level(logging.DEBUG, logger="bot.sources.huggingface")

    papers = await hf.trending(TODAY, [])

    assert [p.arxiv_id for p in papers] == BY_UPVOTES
    assert all(p.metadata and "id" not in p.metadata.title.split() for p in papers)
    assert any("without an arXiv id" in r.getMessage() for r in caplog.records)


async def test_hf_odd_fields_do_not_crash(hf: HuggingFaceSource, fake_hf: FakeHuggingFace):
    fake_hf.day_bodies[WEEK[0]] = [
        "not an object",
        {"paper": "not an object"},
        {"paper": {"id": "arXiv:2204.06974v2"}},
        {
            "paper": {
                "id": " 2203.02155 ",
                "title": "  Training   language models\n to follow instructions ",
                "upvotes": "many",
                "authors": ["Long Ouyang", {"name": 7}, None],
                "ai_keywords": "RLHF",
                "githubRepo": None,
                "publishedAt": "yesterday",
            },
            "numComments": True,
        },
    ]
    fake_hf.fixture_date = ""

    papers = await hf.trending(TODAY, [])

    assert [p.arxiv_id for p in papers] == ["2204.06974", "2203.02155"]
    only_id, odd = papers
    assert only_id.metadata is None and only_id.upvotes is None and only_id.score == 0.0
    assert odd.metadata is not None
    assert odd.metadata.title == "Training language models to follow instructions"
    assert odd.metadata.authors == ("Long Ouyang",)
    assert odd.metadata.published is None
    assert (odd.upvotes, odd.num_comments, odd.ai_keywords, odd.github_repo) == (
        None,
        None,
        (),
        None,
    )


# Papers with Code


async def test_pwc_fixture(pwc: PapersWithCodeSource, fake_pwc: FakePapersWithCode):
    papers = await pwc.trending(TODAY, [])

    assert [p.arxiv_id for p in papers] == ["2203.02155", "2203.14465", "2204.00598"]
    assert [p.score for p in papers] == [3.0, 2.0, 1.0]  # no score field: rank-based
    assert {p.source for p in papers} == {"paperswithcode"}
    instruct, star, socratic = papers
    assert instruct.github_repo == "https://github.com/openai/following-instructions-human-feedback"
    assert instruct.organizations == ("OpenAI",)
    assert star.organizations == ("Stanford University", "Google Research")
    assert socratic.github_repo == "https://github.com/google-research/google-research"
    assert star.upvotes is None and star.ai_keywords == ()
    meta = star.metadata
    assert meta is not None
    assert meta.title == "STaR: Bootstrapping Reasoning With Reasoning"
    assert meta.authors == ("Eric Zelikman", "Yuhuai Wu", "Jesse Mu", "Noah D. Goodman")
    assert meta.published == datetime(2022, 3, 28, tzinfo=UTC)
    assert meta.abstract.startswith("Generating step-by-step")
    assert "\n" not in meta.abstract
    assert [r.path for r in fake_pwc.requests] == ["/api/v1/papers/trending"]
    assert "yomikai" in fake_pwc.requests[0].headers["user-agent"]


async def test_pwc_results_wrapper_and_invalid_ids(
    pwc: PapersWithCodeSource,
    fake_pwc: FakePapersWithCode,
) -> None:
    fake_pwc.wrap, fake_pwc.mode = True, "no_id"

    papers = await pwc.trending(TODAY, [])

    assert [p.arxiv_id for p in papers] == ["2203.02155", "2203.14465", "2204.00598"]


async def test_pwc_uses_score_field_only_when_every_item_has_one(
    pwc: PapersWithCodeSource,
    fake_pwc: FakePapersWithCode,
) -> None:
    fake_pwc.items = [
        {"arxiv_id": "2203.02155", "score": 41.5},
        {"arxiv_id": "https://arxiv.org/abs/2203.14465v3", "stars": 12},
        {"arxiv_id": "2203.02155", "score": 1},  # a duplicate: the first one counts
    ]
    papers = await pwc.trending(TODAY, [])
    assert [(p.arxiv_id, p.score, p.metadata) for p in papers] == [
        ("2203.02155", 41.5, None),
        ("2203.14465", 12.0, None),
    ]

    fake_pwc.items = [{"arxiv_id": "2203.02155", "score": 41.5}, {"arxiv_id": "2203.14465"}]
    papers = await pwc.trending(TODAY, [])
    assert [p.score for p in papers] == [2.0, 1.0]


async def test_pwc_odd_fields_do_not_crash(pwc: PapersWithCodeSource, fake_pwc: FakePapersWithCode):
    fake_pwc.items = [
        None,
        {"arxiv_id": 2203.02155, "title": "a number is not an id"},
        {
            "arxiv_id": "2203.14465",
            "title": ["not", "a", "string"],
            "authors": "Eric Zelikman",
            "organizations": [None, {"name": "Stanford"}, "  Google   Research "],
            "repositories": ["https://github.com/ezelikman/STaR", {"stars": 5}, 3],
        },
    ]

    (star,) = await pwc.trending(TODAY, [])

    assert star.metadata is None
    assert star.organizations == ("Stanford", "Google Research")
    assert star.github_repo == "https://github.com/ezelikman/STaR"


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("500", "answered HTTP 500"),
        ("invalid_json", "not JSON"),
        ("wrong_shape", "unexpected shape"),
        ("hang", "did not answer in time"),
    ],
)
async def test_pwc_failures_are_unavailable(
    fake_pwc: FakePapersWithCode,
    mode: str,
    reason: str,
) -> None:
    fake_pwc.mode = mode
    source = PapersWithCodeSource(fake_pwc.url, timeout=0.2, retries=1, backoff=BACKOFF)
    try:
        with pytest.raises(SourceUnavailable, match=reason):
            await source.trending(TODAY, [])
    finally:
        await source.aclose()


async def test_unreachable_is_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = PapersWithCodeSource(f"http://127.0.0.1:{port}/api/v1", retries=1, backoff=BACKOFF)
    try:
        with pytest.raises(SourceUnavailable, match="could not be reached"):
            await source.trending(TODAY, [])
    finally:
        await source.aclose()


# arXiv listing


async def test_arxiv_listing_newest_scores_highest(arxiv_listing: ArxivListingSource):
    papers = await arxiv_listing.trending(TODAY, ["cs.LG", "cs.CL"])

    assert [p.arxiv_id for p in papers] == NEWEST_FIRST
    assert [p.score for p in papers] == [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    assert papers[0].source == "arxiv"
    assert papers[0].metadata is not None and papers[0].metadata.version == 2


# The chain


async def test_chain_uses_hf_when_it_has_papers(
    chain: TrendingChain,
    fake_pwc: FakePapersWithCode,
    fake_arxiv: FakeArxiv,
) -> None:
    name, papers = await chain.trending(TODAY, ["cs.LG"])

    assert name == "huggingface"
    assert len(papers) == 12
    assert fake_pwc.requests == [] and fake_arxiv.requests == []


async def test_chain_hf_fails_pwc_used(
    chain: TrendingChain,
    fake_hf: FakeHuggingFace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.mode = "500"
    caplog.set_level(logging.INFO)

    name, papers = await chain.trending(TODAY, ["cs.LG"])

    assert name == "paperswithcode"
    assert [p.arxiv_id for p in papers] == ["2203.02155", "2203.14465", "2204.00598"]
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in failures] == [
        "Trending source huggingface failed: answered HTTP 500 on all 7 days; trying paperswithcode"
    ]


async def test_chain_hf_empty_pwc_500_arxiv_listing(
    chain: TrendingChain,
    fake_hf: FakeHuggingFace,
    fake_pwc: FakePapersWithCode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.mode, fake_pwc.mode = "empty", "500"
    caplog.set_level(logging.INFO)

    name, papers = await chain.trending(TODAY, ["cs.LG"])

    assert name == "arxiv"
    assert [p.arxiv_id for p in papers] == NEWEST_FIRST
    assert lines(caplog, "bot.sources.trending") == [
        "Trending source huggingface returned no papers; trying paperswithcode",
        "Trending source paperswithcode failed: answered HTTP 500; trying arxiv",
        "Trending: 6 papers from arxiv",
    ]
    assert lines(caplog, "bot.sources.huggingface") == []
    assert lines(caplog, "bot.sources.paperswithcode") == []


async def test_chain_all_fail(
    chain: TrendingChain,
    fake_hf: FakeHuggingFace,
    fake_pwc: FakePapersWithCode,
    fake_arxiv: FakeArxiv,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_hf.mode, fake_pwc.mode, fake_arxiv.mode = "500", "invalid_json", "503"
    caplog.set_level(logging.INFO)

    with pytest.raises(SourceUnavailable) as raised:
        await chain.trending(TODAY, ["cs.LG"])

    assert str(raised.value) == (
        "no trending source answered: huggingface: answered HTTP 500 on all 7 days; "
        "paperswithcode: answered with a body that is not JSON; arxiv: arXiv answered HTTP 503"
    )
    chain_lines = lines(caplog, "bot.sources.trending")
    assert len(chain_lines) == 3
    for line, source in zip(chain_lines, ["huggingface", "paperswithcode", "arxiv"], strict=True):
        assert line.startswith(f"Trending source {source} failed: ")
    assert chain_lines[-1].endswith("; no sources left")
    assert lines(caplog, "bot.sources.huggingface") == []
    assert lines(caplog, "bot.sources.paperswithcode") == []


async def test_chain_all_empty_is_an_empty_answer(
    chain: TrendingChain,
    fake_hf: FakeHuggingFace,
    fake_pwc: FakePapersWithCode,
) -> None:
    fake_hf.mode, fake_pwc.mode = "empty", "empty"

    assert await chain.trending(TODAY, []) == ("arxiv", [])  # no categories: no listing


async def test_chain_aclose_closes_sources(fake_hf: FakeHuggingFace) -> None:
    source = HuggingFaceSource(fake_hf.url, timeout=TIMEOUT)
    chain = TrendingChain([source])
    await chain.aclose()

    assert source._http._client.is_closed
