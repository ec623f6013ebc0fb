"""Offline drafts from real papers: the quality set, the author block, the politeness budget."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core import Yomikai
from bot.drafting.author_block import institutions
from bot.drafting.draft import Hints, Page, PaperFacts
from bot.drafting.rules import offline_draft
from bot.drafting.text import plain, sentences
from bot.sources.politeness import POLL, SharedBudget
from storage.db import Database
from storage.models import Paper, PaperPage
from tests.fakes.drafting import drafting
from tests.fakes.paper_sites import BY_ID, PAPERS, FakePaperSites, author_block, latexml_page

MODEL_NAMES_RIGHT = 16
AFFILIATIONS_RIGHT = 14
"""What docs/cards.md reports for the 16 papers of tests/fixtures/papers; it must not fall."""


def paper_row(arxiv_id: str) -> Paper:
    fixture = BY_ID[arxiv_id]
    return Paper(
        arxiv_id=arxiv_id,
        version=fixture["version"],
        title=fixture["title"],
        authors=fixture["authors"],
        abstract=fixture["abstract"],
        fetched_at=None,  # type: ignore[arg-type]
    )


def model_name_right(drafted: str, fixture: dict[str, object]) -> bool:
    """The matching rule of docs/cards.md: "-" for "-", else the expected name (or an alias)
    appears in the drafted one, ignoring case."""
    expected = str(fixture["model_name"])
    if expected == "-" or drafted == "-":
        return drafted == expected
    names = [expected, *fixture["model_aliases"]]  # type: ignore[misc]
    return any(name.casefold() in drafted.casefold() for name in names)


def affiliations_right(drafted: tuple[str, ...], fixture: dict[str, object]) -> bool:
    """Every expected institution appears in a drafted one (none expected: none drafted)."""
    expected: list[str] = fixture["affiliations"]  # type: ignore[assignment]
    if not expected:
        return not drafted
    joined = " | ".join(drafted).casefold()
    return all(name.casefold() in joined for name in expected)


async def test_the_offline_draft_of_the_quality_set(
    core: Yomikai, paper_sites: FakePaperSites
) -> None:
    """Through the real pages client and the fake arXiv HTML: model names and institutions."""
    drafter = drafting(core, paper_sites)
    rows = []
    for fixture in PAPERS:
        facts = await drafter.facts(paper_row(fixture["arxiv_id"]), hints=Hints())
        draft = await drafter.draft(facts, "en")
        rows.append(
            (
                fixture["arxiv_id"],
                draft.model_name,
                draft.affiliations,
                model_name_right(draft.model_name, fixture),
                affiliations_right(draft.affiliations, fixture),
            )
        )
        assert draft.summary and draft.purpose and draft.method  # every card gets a start
        assert all("@" not in a and "contribution" not in a.lower() for a in draft.affiliations)
    names = sum(row[3] for row in rows)
    places = sum(row[4] for row in rows)
    assert (names, places) >= (MODEL_NAMES_RIGHT, AFFILIATIONS_RIGHT), rows
    assert len(PAPERS) >= 10


async def test_chinchilla_comes_out_as_chinchilla_from_deepmind(
    core: Yomikai, paper_sites: FakePaperSites
) -> None:
    drafter = drafting(core, paper_sites)
    facts = await drafter.facts(paper_row("2203.15556"), hints=Hints())
    draft = await drafter.draft(facts, "en")
    assert draft.model_name == "Chinchilla" and draft.affiliations == ("DeepMind",)
    assert draft.sources["affiliations"] == "author block"
    assert "4× more more data" in plain(BY_ID["2203.15556"]["abstract"])  # arXiv's own typo
    assert [hit.path for hit in paper_sites.hits] == ["/arxiv/html/2203.15556v1"]


async def test_a_page_is_fetched_once_and_ar5iv_serves_older_papers(
    core: Yomikai, paper_sites: FakePaperSites, db: Database
) -> None:
    drafter = drafting(core, paper_sites)
    paper_sites.only_ar5iv = {"1706.03762"}
    paper = paper_row("1706.03762")
    first = await drafter.facts(paper, hints=Hints())
    again = await drafter.facts(paper, hints=Hints())
    assert first.page.found == "ar5iv" and again == first
    assert [hit.path for hit in paper_sites.hits] == [
        "/arxiv/html/1706.03762v7",
        "/ar5iv/html/1706.03762",
    ]
    assert "Google Brain" in first.page.affiliations and "Introduction" in first.page.text
    with db.session() as session:
        (kept,) = session.exec(select(PaperPage)).all()
        assert (kept.arxiv_id, kept.version, kept.found) == ("1706.03762", 7, "ar5iv")


async def test_pages_drafted_at_once_take_their_turns_without_waiting_for_a_poll(
    core: Yomikai, paper_sites: FakePaperSites
) -> None:
    """Four cards' pages at once, spacing 0 (a mirror): one after the other, at once."""
    drafter = drafting(core, paper_sites)
    papers = ["2203.15556", "2203.13131", "2203.14465", "2204.00598"]
    started = time.monotonic()
    found = await asyncio.gather(*(drafter.facts(paper_row(p), Hints()) for p in papers))
    assert all(facts.page.found == "arxiv" for facts in found)
    assert time.monotonic() - started < POLL  # (polling the shared budget: 0.5 s per page)
    hits = sorted(paper_sites.hits, key=lambda hit: hit.time)
    assert all(a.ended <= b.time for a, b in itertools.pairwise(hits))  # one at a time


async def test_no_html_anywhere_is_said_plainly_and_remembered(
    core: Yomikai, paper_sites: FakePaperSites
) -> None:
    drafter = drafting(core, paper_sites)
    paper_sites.mode = "404"
    for _ in range(2):
        facts = await drafter.facts(paper_row("2203.15556"), hints=Hints())
        draft = await drafter.draft(facts, "en")
        assert draft.affiliations == () and draft.notes == ("draft.note.no_html",)
    assert len(paper_sites.hits) == 2  # arXiv and ar5iv once each; then the kept answer


@pytest.mark.parametrize("mode", ["500", "hang"])
async def test_a_site_that_fails_is_tried_again_next_time(
    core: Yomikai, paper_sites: FakePaperSites, mode: str
) -> None:
    drafter = drafting(core, paper_sites, timeout=0.5)
    paper_sites.mode = mode
    paper_sites.hang_seconds = 1.0
    facts = await drafter.facts(paper_row("2203.15556"), hints=Hints())
    draft = await drafter.draft(facts, "en")
    assert facts.page.unavailable and draft.notes == ("draft.note.html_unavailable",)
    assert draft.model_name == "Chinchilla"  # the rest of the draft is there
    paper_sites.mode = "ok"
    facts = await drafter.facts(paper_row("2203.15556"), hints=Hints())
    assert facts.page.affiliations == ("DeepMind",)


@pytest.mark.parametrize(
    "block",
    [
        "",  # no author block
        '<div class="ltx_authors"><span class="ltx_creator ltx_role_author">',  # cut off
        '<div class="ltx_authors"><span class="ltx_creator ltx_role_author"><span class='
        '"ltx_personname"><br><br><sup>1</sup>, <span class="ltx_note">x</span></span></div>',
        "<div class='ltx_authors'>" + "<span class='ltx_creator'>" * 500 + "</div>",
        "\x00<![CDATA[ &#0; &bogus; <<<>>> ]]>",
    ],
)
async def test_a_malformed_or_missing_author_block_breaks_nothing(
    core: Yomikai, paper_sites: FakePaperSites, block: str
) -> None:
    drafter = drafting(core, paper_sites)
    paper_sites.pages["2203.15556"] = latexml_page("2203.15556", block)
    facts = await drafter.facts(paper_row("2203.15556"), hints=Hints())
    draft = await drafter.draft(facts, "en")
    assert draft.affiliations == () and draft.notes == ("draft.note.no_affiliations",)
    assert draft.model_name == "Chinchilla"


def test_a_hundred_institutions_are_capped() -> None:
    creators = "".join(
        f'<span class="ltx_creator ltx_role_author"><span class="ltx_personname">Author {n}'
        f'</span><span class="ltx_author_notes"><span class="ltx_contact ltx_role_affiliation">'
        f"Institute {n}</span></span></span>"
        for n in range(100)
    )
    found = institutions(f'<div class="ltx_authors">{creators}</div>', [])
    assert len(found) == 100 and found[:2] == ["Institute 0", "Institute 1"]
    fixture = BY_ID["2203.15556"]
    facts = PaperFacts("x", fixture["title"], fixture["abstract"], page=_page(found))
    draft = offline_draft(facts)
    assert len(draft.affiliations) == 8 and draft.more_affiliations == 92
    assert draft.parts()["affiliations"].endswith("Institute 7 +92")


def test_the_author_block_drops_emails_marks_and_notes() -> None:
    html = author_block("2203.14465")
    found = institutions(html, BY_ID["2203.14465"]["authors"])
    assert found == ["Department of Computer Science, Stanford University", "Google Research"]
    html = author_block("2106.09685")
    assert institutions(html, BY_ID["2106.09685"]["authors"]) == ["Microsoft Corporation"]


def test_latex_entities_and_long_abstracts_become_plain_lines() -> None:
    abstract = (
        "We propose \\emph{FooNet}, a model that is 4$\\times$ faster \\cite{x} &amp; smaller. "
        "We show that it outperforms \\textbf{all} baselines by 3\\% on $\\sim$10 tasks. "
        + "Filler sentence about the background of the field. "
        * 60
    )
    assert len(abstract) > 3000
    draft = offline_draft(PaperFacts("x", "FooNet: Fast Networks", abstract))
    assert draft.model_name == "FooNet"
    assert draft.purpose == "We propose FooNet, a model that is 4× faster & smaller."
    assert draft.results.startswith("We show that it outperforms all baselines by 3% on ~10")
    for text in (draft.summary, draft.purpose, draft.results, draft.method):
        assert "\\" not in text and "$" not in text and "&amp;" not in text
    assert len(draft.purpose) <= 200 and len(draft.summary) <= 3 * 300 + 2


def test_sentences_keep_abbreviations_together() -> None:
    text = "Models (e.g. GPT-3) work well, i.e. often. Smith et al. agree. We show it. 3 more."
    assert sentences(text) == [
        "Models (e.g. GPT-3) work well, i.e. often.",
        "Smith et al. agree.",
        "We show it.",
        "3 more.",
    ]


def test_a_survey_names_no_model() -> None:
    fixture = BY_ID["2303.18223"]
    draft = offline_draft(PaperFacts("x", fixture["title"], fixture["abstract"]))
    assert draft.model_name == "-"


def _take_turns(url: str, spacing: float, turns: int, out: str) -> None:
    """A separate process taking turns of the shared budget; records when each ran."""
    db = Database(url)
    budget = SharedBudget(db, "arxiv", spacing=spacing)
    with open(out, "a", encoding="utf-8") as log:
        for _ in range(turns):
            with budget.turn():
                start = time.time()
                time.sleep(0.05)
                log.write(f"{start} {time.time()}\n")
    db.dispose()


def test_the_budget_holds_across_processes(database_url: str, tmp_path: Path) -> None:
    """Two processes, three requests each: one at a time, and ``spacing`` apart."""
    spacing = 0.3
    out = tmp_path / "turns.txt"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_take_turns, args=(database_url, spacing, 3, str(out)))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    turns = sorted(tuple(map(float, line.split())) for line in out.read_text().splitlines())
    assert len(turns) == 6
    gaps = [later[0] - earlier[1] for earlier, later in itertools.pairwise(turns)]
    assert min(gaps) >= spacing - 0.02, gaps  # (the clocks of one machine; a little slack)


def _page(found: list[str]) -> Page:
    return Page(found="arxiv", affiliations=tuple(found))


def test_hugging_face_hints_fill_what_the_paper_leaves_out() -> None:
    fixture = BY_ID["2204.03458"]  # names no system; its author block is not fetched here
    hints = Hints(github_repo="https://github.com/google/VDM", organizations=("Google",))
    draft = offline_draft(PaperFacts("x", fixture["title"], fixture["abstract"], hints=hints))
    assert (draft.model_name, draft.sources["model_name"]) == ("VDM", "Hugging Face")
    assert draft.affiliations == ("Google",) and draft.sources["affiliations"] == "Hugging Face"


TEST_AUTHORS = ["Alice Author", "Bob Builder", "Carol Coder"]
LATEXML_STYLES = {
    "acmart-v088-arxiv": ["University of Somewhere", "Google Research"],
    "acmart-head2026": ["University of Somewhere", "Google Research"],
    "authblk-v088-arxiv": ["Google Research, Mountain View, CA", "University of Somewhere"],
    "icml-fork2026": [
        "Google Research, Mountain View, USA",
        "University of Somewhere, City, Country",
    ],
    "icml-preview4": [],  # that LaTeXML dropped \icmlaffiliation: names only
    "ieee-v088-arxiv": ["Dept. of EE", "University of Somewhere", "Google Research"],
    "llncs-v088-arxiv": [
        "University of Somewhere, City, Country",
        "Google Research, Zurich, Switzerland",
    ],
    "llncs-head2026": [
        "University of Somewhere, City, Country",
        "Google Research, Zurich, Switzerland",
    ],
    "neurips-And-v088-arxiv": [
        "Department of Computer Science",
        "University of Somewhere",
        "Google Research",
        "Affiliation Three",
        "OpenAI",
    ],
    "neurips-And-head2026": [
        "Department of Computer Science",
        "University of Somewhere",
        "Google Research",
        "Affiliation Three",
        "OpenAI",
    ],
    "numbered-mathsup-v087": ["Google Research", "University of Somewhere"],
    "numbered-textsup-fork2026": ["Google Research", "University of Somewhere"],
    "orcidlink-head2026": ["University of Somewhere"],
    "revtex-head2026": [
        "Department of Physics, University of Somewhere, City 12345, Country",
        "Google Quantum AI, Santa Barbara, CA, USA",
    ],
    "tabular-preview4": ["Google Research", "MIT"],
    "title-thanks-fork2026": ["University of Somewhere", "ETH Zürich"],
    "real-2404.19756v1-KAN-trimmed": [
        "Massachusetts Institute of Technology",
        "California Institute of Technology",
    ],
    "real-2609.01222v2": ["University of Illinois Urbana-Champaign"],
    "arxiv-no-html-404": [],
    "ar5iv-fatal-banner": [],
}
REAL_AUTHORS = {
    "real-2404.19756v1-KAN-trimmed": ["Ziming Liu", "Yixuan Wang"],
    "real-2609.01222v2": ["Zichuan Li", "Jian Cui", "Ashley Chen", "Xiaojing Liao"],
}


@pytest.mark.parametrize("style", sorted(LATEXML_STYLES))
def test_every_latexml_generation_s_author_block(style: str) -> None:
    """Real LaTeXML output of each generation arXiv and ar5iv served (tests/fixtures/latexml)."""
    html = (Path(__file__).parent / "fixtures" / "latexml" / f"{style}.html").read_text("utf-8")
    authors = REAL_AUTHORS.get(style, TEST_AUTHORS)
    assert institutions(html, authors) == LATEXML_STYLES[style]
