"""Ten cards drafted by a model that takes 2 s per answer: the agenda first, then the drafts as
fast as the model client's concurrency allows; a second group reading the same papers costs no
model call.

The real core and drafting worker (``bot.drafting``: the HTML pages client, the ``openai``
model client, the background ``DraftWorker``) run on a SQLite file against the tests' fake paper
sites and fake OpenAI-compatible endpoint on 127.0.0.1, which answers every request after 2 s of
real wall time. A group of the console-like fake chat nominates ten papers, opens a round and
closes it; the close marks ten cards for drafting. Measured in this one run:

- from the close to each draft stored, against the floor the model sets: the answers asked
  for × the measured time of one answer ÷ the model client's concurrency (``ModelClient``'s
  ``concurrency``, 2: no setting changes it); the target is that floor + 10 %;
- that the agenda was posted before the first draft was stored;
- a second group closing a round of the same ten papers: drafts reused, no model call.

The pages' politeness spacing is 0 here (as with a mirror of one's own) so that the figure is
the model's; with arXiv's 3 s the page requests alone set a floor of 3 s each (see the note).

    .venv/bin/python -m benchmarks 10
"""

from __future__ import annotations

import asyncio
import inspect
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from benchmarks.report import Figure, Result, check, ms, spread
from bot.context import Services
from bot.core import Yomikai
from bot.drafting.draft import DONE
from bot.drafting.model import ModelClient
from bot.group_setup import GroupDefaults
from bot.messages import Agenda, Message
from bot.papers import PaperCatalog
from bot.sources import PaperMetadata
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Card, Group, ReadingSession, Slot
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.chat import FakeChat, ManualClock
from tests.fakes.drafting import drafting
from tests.fakes.model_server import FakeModel, serve_model
from tests.fakes.paper_sites import PAPERS, FakePaperSites, author_block, serve_paper_sites

CARDS = 10
ANSWER_SECONDS = 2.0
LIMIT = 1.10
TIMEOUT = 60.0
"""Longest wait for the drafts of one group (the floor is about 10 s)."""
CONCURRENCY: int = inspect.signature(ModelClient).parameters["concurrency"].default
"""The model client's concurrency, as the composition root makes it (no setting changes it)."""
ARXIV_SPACING = 3.0

CHOSEN = [paper for paper in PAPERS if author_block(str(paper["arxiv_id"]))][:CARDS]
"""Ten papers of the quality set that have an HTML author block."""


@dataclass
class TimedChat(FakeChat):
    """The fake chat, noting when each post was made (wall time of this process)."""

    posted: list[tuple[float, str, Message]] = field(default_factory=list)

    def _record(self, kind: str, target: str, message: Message) -> str:
        self.posted.append((time.monotonic(), target, message))
        return super()._record(kind, target, message)


def metadata(paper: dict[str, object]) -> PaperMetadata:
    """A quality-set paper as arXiv's metadata gives it (no affiliations: the page has them)."""
    authors = paper["authors"]
    assert isinstance(authors, list)
    version = paper["version"]
    return PaperMetadata(
        arxiv_id=str(paper["arxiv_id"]),
        title=str(paper["title"]),
        authors=tuple(str(a) for a in authors),
        abstract=str(paper["abstract"]),
        version=version if isinstance(version, int) else None,
    )


async def close_round(chat: FakeChat) -> float:
    """Set up a group, nominate the ten papers, open and close a round; when it closed."""
    await chat.say("alice", f"/yomikai setup papers {CARDS} language en")
    await chat.say("alice", "/yomikai join")
    for paper in CHOSEN:
        await chat.say("bob", f"/nominate {paper['arxiv_id']}")
    await chat.say("alice", "/yomikai open")
    closed = time.monotonic()
    reply = await chat.say("alice", "/yomikai close")
    check(bool(chat.only(reply, Agenda)), f"/yomikai close in {chat.channel}: {reply}")
    return closed


async def stored_after(core: Yomikai, closed: float, already: int) -> list[float]:
    """Seconds from ``closed`` until each of ``CARDS`` more drafts was stored."""
    worker = core.drafts
    assert worker is not None
    times: list[float] = []
    deadline = closed + TIMEOUT
    while len(times) < CARDS:
        check(time.monotonic() < deadline, f"{len(times)} of {CARDS} drafts in {TIMEOUT:.0f} s")
        done = worker.drafted - already
        now = time.monotonic()
        times.extend([now - closed] * (done - len(times)))
        await asyncio.sleep(0.005)
    return times


def cards_of(db: Database, channel: str) -> list[Card]:
    with db.session() as session:
        return list(
            session.exec(
                select(Card)
                .join(Slot, col(Slot.id) == col(Card.slot_id))
                .join(ReadingSession, col(ReadingSession.id) == col(Slot.session_id))
                .join(Group, col(Group.id) == col(ReadingSession.group_id))
                .where(col(Group.channel_id) == channel)
            ).all()
        )


def check_drafts(db: Database, channel: str) -> None:
    cards = cards_of(db, channel)
    check(len(cards) == CARDS, f"{channel}: {len(cards)} cards, not {CARDS}")
    for card in cards:
        check(card.draft_state == DONE, f"{channel}: card {card.id} is {card.draft_state!r}")
        check(
            card.summary.startswith("A summary of")
            and card.sources.get("summary") == "fake-model-1"
            and all((card.purpose, card.results, card.method, card.model_name)),
            f"{channel}: card {card.id} was not drafted by the model: {card.summary!r}",
        )
        check(bool(card.affiliations), f"{channel}: card {card.id} has no affiliations")


def agenda_time(chat: TimedChat, channel: str) -> float:
    agendas = [at for at, target, m in chat.posted if target == channel and isinstance(m, Agenda)]
    check(len(agendas) == 1, f"{channel}: {len(agendas)} agendas posted")
    return agendas[0]


def calls_per_paper(model: FakeModel) -> Counter[str]:
    titles = {str(p["title"]): str(p["arxiv_id"]) for p in CHOSEN}
    counted: Counter[str] = Counter()
    for call in model.calls:
        prompt = call.body["messages"][1]["content"]
        title = next((t for t in titles if f"Title: {t}" in prompt), None)
        check(title is not None, "a model call for no paper of the round")
        counted[titles[title or ""]] += 1
    return counted


def busiest(model: FakeModel) -> int:
    return max(
        sum(1 for other in model.calls if other.time <= call.time < other.ended)
        for call in model.calls
    )


async def measure(folder: Path, sites: FakePaperSites, model: FakeModel) -> Result:
    model.delay = ANSWER_SECONDS
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    upgrade(db.engine)
    with serve_fake_arxiv() as arxiv_fake:
        arxiv = ArxivSource(arxiv_fake.url, delay_seconds=0)
        catalog = PaperCatalog(db, arxiv)
        core = Yomikai(db, Services(catalog, GroupDefaults()), ManualClock())
        await catalog.remember([metadata(p) for p in CHOSEN], datetime.now(UTC))
        drafter = drafting(core, sites, model, spacing=0.0)
        chat = TimedChat(core)
        core.connect(chat)
        await core.start()
        try:
            result = await scenario(core, chat, sites, model)
            check(arxiv_fake.requests == [], "arXiv was asked (the papers were stored)")
            return result
        finally:
            await core.stop()
            await drafter.aclose()
            await arxiv.aclose()
            db.dispose()


async def scenario(
    core: Yomikai, chat: TimedChat, sites: FakePaperSites, model: FakeModel
) -> Result:
    closed = await close_round(chat)
    first = await stored_after(core, closed, 0)
    agenda = agenda_time(chat, chat.channel) - closed
    check(agenda < first[0], f"agenda at {ms(agenda)}, first draft at {ms(first[0])}")
    check_drafts(core.db, chat.channel)
    per_paper = calls_per_paper(model)
    check(len(per_paper) == CARDS, f"model asked about {len(per_paper)} papers")
    calls, pages = len(model.calls), len(sites.hits)
    answer = sum(c.ended - c.time for c in model.calls) / calls
    most = busiest(model)
    check(most <= CONCURRENCY, f"{most} model calls at once (concurrency {CONCURRENCY})")

    other = TimedChat(core, channel="C-second-group")
    closed_again = await close_round(other)
    second = await stored_after(core, closed_again, CARDS)
    check_drafts(core.db, other.channel)
    agenda_time(chat, other.channel)  # (posted through the connected chat)
    again, pages_again = len(model.calls) - calls, len(sites.hits) - pages

    result = Result(10, "drafting ten cards, model 2 s per answer")
    floor = calls * answer / CONCURRENCY
    p50, p99, top = spread(first)
    result.add(
        Figure(
            "close → ten drafts stored",
            f"p50 {ms(p50)} · p99 {ms(p99)} · max {ms(top)}",
            f"{calls} answers × {answer:.2f} s ÷ {CONCURRENCY} = {floor:.2f} s",
            top / floor,
            LIMIT,
            f"≤ {LIMIT:.2f}",
            runs=len(first),
        )
    )
    result.add(
        Figure(
            "agenda posted before the first draft",
            f"agenda {ms(agenda)}, first draft {ms(first[0])}",
            "the close",
            target="agenda first",
            met=agenda < first[0],
        )
    )
    p50, _, top2 = spread(second)
    result.add(
        Figure(
            "second group, same ten papers",
            f"{again} model calls, {pages_again} page requests; all stored in {ms(top2)}",
            f"first group: {calls} calls, {ms(top)}",
            top2 / top,
            target="0 model calls",
            runs=len(second),
            met=again == 0,
        )
    )
    shape = ", ".join(f"{n}×{k}" for k, n in sorted(Counter(per_paper.values()).items()))
    result.note(
        f"model answers per card: {shape} (papers × answers); at most {most} at once"
        f" (concurrency {CONCURRENCY}); {pages} page requests for the ten cards: with arXiv's"
        f" {ARXIV_SPACING:.0f} s spacing they alone would take"
        f" ≥ {(pages - 1) * ARXIV_SPACING:.0f} s"
    )
    return result


async def run() -> Result:
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_paper_sites() as sites,
        serve_model() as model,
    ):
        return await measure(Path(folder), sites, model)
