"""Twenty members nominate twenty new papers within one second: how arXiv is asked, and how fast
each nominator hears back.

The real Slack adapter (HTTP mode, signed ``/nominate <id>`` slash commands) and core run on a
SQLite file; the real arXiv source (the ``arxiv`` package, with the installation's shared
politeness budget of 3 s as the composition root makes it) asks the fake arXiv of the tests, which
records every request. Measured in this one run:

- the arXiv requests the burst made, their spacing and the ids each carried, against the floor
  that arXiv's budget allows: one request at once, then one per 3 s carrying every id waiting
  (the burst spans 1 s, so 2 requests);
- each nominator's acknowledgement (Slack wants it within 3 s) against a lone nomination's;
- each nominator's answer (the channel post "… nominated …") against its floor: a lone new
  paper's answer plus one politeness wait of 3 s (no answer of the burst can come sooner than
  the second request);
- a repeat nomination of a paper of the burst, by another member and in another group: no request.

    .venv/bin/python -m benchmarks 4
"""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlmodel import col, func, select

from adapters.slack import build
from benchmarks.report import Figure, Result, check, ms, spread
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from bot.sources.politeness import SharedBudget
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Group, Nomination, Paper
from tests.fakes.arxiv_server import FakeArxiv, RecordedRequest, made_up_entry, serve_fake_arxiv
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import CHANNEL, SlackSide, slack_settings

BURST = 20
BURST_SPAN = 1.0
"""The burst's nominations are sent spread evenly over this many seconds."""
LONE = 6
"""Lone nominations one after the other: the first of a new paper, the rest of the same one."""
SPACING = 3.0
"""arXiv's politeness spacing (``YOMIKAI_ARXIV_SPACING``'s default)."""
SLACK_DEADLINE = 3.0
ANSWER_LIMIT = 1.10
OTHER_CHANNEL = "C05OTHERGRP"
ANSWERS_TIMEOUT = BURST * SPACING + 15.0
"""Long enough for the unbatched bot (one request per nomination, 3 s apart) to finish."""

LONE_PAPER = "2405.10000"
PAPERS = [f"2405.{10001 + n:05d}" for n in range(BURST)]


def title(arxiv_id: str) -> str:
    return f"Benchmark paper {arxiv_id}"


class Nominations:
    """Sends nominations like Slack and times their acknowledgement and their channel post."""

    def __init__(self, side: SlackSide, fake: FakeSlack) -> None:
        self.side = side
        self.fake = fake

    async def send(self, user: str, paper: str, channel: str = CHANNEL) -> tuple[float, float]:
        """(seconds until acknowledged, monotonic time it was sent)."""
        sent = time.monotonic()
        status, body, took = await self.side.send(
            self.side.command_body(user, f"/nominate {paper}", channel)
        )
        check(status == 200 and body == "", f"/nominate {paper} by {user}: {status} {body!r}")
        return took, sent

    def post_time(self, user: str, paper: str, channel: str) -> float | None:
        for call in self.fake.to("chat.postMessage"):
            text = call.text()
            if call.args.get("channel") == channel and title(paper) in text and user in text:
                return call.time
        return None

    async def answered(
        self, asked: list[tuple[str, str, str, float]], timeout: float
    ) -> list[float]:
        """Seconds from each (user, paper, channel, sent) to its channel post."""
        deadline = time.monotonic() + timeout
        while True:
            times = [self.post_time(user, paper, channel) for user, paper, channel, _ in asked]
            if all(t is not None for t in times):
                return [t - sent for t, (*_, sent) in zip(times, asked, strict=True) if t]
            check(time.monotonic() < deadline, f"{times.count(None)} nominations never answered")
            await asyncio.sleep(0.01)


def nominations(db: Database, channel: str) -> dict[str, int]:
    """Nominations per paper (arXiv id) in the group bound to ``channel``."""
    with db.session() as session:
        rows = session.exec(
            select(Paper.arxiv_id, func.count(col(Nomination.id)))
            .join(Nomination, col(Nomination.paper_id) == col(Paper.id))
            .join(Group, col(Group.id) == col(Nomination.group_id))
            .where(col(Group.channel_id) == channel)
            .group_by(col(Paper.arxiv_id))
        )
        return dict(rows.all())


def papers_stored(db: Database) -> int:
    with db.session() as session:
        return len(session.exec(select(Paper.id)).all())


async def wait_budget_free(fake: FakeArxiv) -> None:
    """Until the last request's politeness wait is over (the burst starts with a free budget)."""
    ended = fake.requests[-1].ended if fake.requests else None
    if ended is not None:
        await asyncio.sleep(max(0.0, ended + SPACING + 0.1 - time.monotonic()))


async def measure(folder: Path, fake: FakeSlack, arxiv_fake: FakeArxiv) -> Result:
    for paper in [LONE_PAPER, *PAPERS]:
        arxiv_fake.extra[paper] = made_up_entry(paper, title(paper))
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    upgrade(db.engine)
    arxiv = ArxivSource(arxiv_fake.url, budget=SharedBudget(db, "arxiv", spacing=SPACING))
    core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), ManualClock())
    adapter = build(slack_settings(fake), core, host="127.0.0.1", port=0)
    await adapter.start()
    core.connect(adapter)  # as the composition root does: posts go out through it
    await core.start()
    try:
        async with aiohttp.ClientSession() as http:
            side = SlackSide(adapter, fake, http)
            return await scenario(Nominations(side, fake), db, arxiv_fake)
    finally:
        await adapter.stop()
        await core.stop()
        await arxiv.aclose()
        db.dispose()


async def scenario(noms: Nominations, db: Database, arxiv_fake: FakeArxiv) -> Result:
    side, fake = noms.side, noms.fake
    for user, channel in (("alice", CHANNEL), ("carol", OTHER_CHANNEL)):
        await side.send(side.command_body(user, "/yomikai setup", channel))
    await fake.wait_calls("chat.postMessage", 2)

    # Lone nominations, one after the other: a new paper first (one request), then the same.
    lone_acks, lone_answers = [], []
    for n in range(LONE):
        user = f"lone{n}"
        took, sent = await noms.send(user, LONE_PAPER)
        (answer,) = await noms.answered([(user, LONE_PAPER, CHANNEL, sent)], 10.0)
        lone_acks.append(took)
        lone_answers.append(answer)
    check(len(arxiv_fake.requests) == 1, f"lone nominations: {len(arxiv_fake.requests)} requests")
    lone_new, lone_known = lone_answers[0], statistics.median(lone_answers[1:])

    await wait_budget_free(arxiv_fake)
    before = len(arxiv_fake.requests)
    started = time.monotonic()

    async def nominate(n: int, paper: str) -> tuple[float, float]:
        await asyncio.sleep(max(0.0, started + n * BURST_SPAN / (BURST - 1) - time.monotonic()))
        return await noms.send(f"nom{n:02d}", paper)

    burst = await asyncio.gather(*(nominate(n, p) for n, p in enumerate(PAPERS)))
    span = burst[-1][1] - burst[0][1]
    acks = [took for took, _ in burst]
    asked = [(f"nom{n:02d}", PAPERS[n], CHANNEL, at) for n, (_, at) in enumerate(burst)]
    answers = await noms.answered(asked, ANSWERS_TIMEOUT)
    burst_requests = arxiv_fake.requests[before:]

    # The same paper again: another member of the group, and a member of another group.
    before = len(arxiv_fake.requests)
    again = [("bob", PAPERS[5], CHANNEL), ("dave", PAPERS[5], OTHER_CHANNEL)]
    repeat_acks, repeat_sent = [], []
    for user, paper, channel in again:
        took, at = await noms.send(user, paper, channel)
        repeat_acks.append(took)
        repeat_sent.append((user, paper, channel, at))
    repeat_answers = await noms.answered(repeat_sent, 10.0)
    repeat_requests = len(arxiv_fake.requests) - before

    # The work: each paper asked once, every nomination stored once.
    asked_ids = [i for r in burst_requests for i in r.ids]
    check(sorted(asked_ids) == sorted(PAPERS), f"burst asked arXiv for {sorted(asked_ids)}")
    here, there = nominations(db, CHANNEL), nominations(db, OTHER_CHANNEL)
    check(
        all(here.get(p) == (2 if p == PAPERS[5] else 1) for p in PAPERS),
        f"nominations stored in the group: {here}",
    )
    check(here.get(LONE_PAPER) == LONE, f"lone nominations stored: {here.get(LONE_PAPER)}")
    check(there == {PAPERS[5]: 1}, f"nominations stored in the other group: {there}")
    check(papers_stored(db) == BURST + 1, f"{papers_stored(db)} papers stored, not {BURST + 1}")

    return report(
        lone_acks,
        lone_new,
        lone_known,
        span,
        acks,
        answers,
        burst_requests,
        repeat_requests,
        repeat_acks,
        repeat_answers,
    )


def report(
    lone_acks: list[float],
    lone_new: float,
    lone_known: float,
    span: float,
    acks: list[float],
    answers: list[float],
    recorded: list[RecordedRequest],
    repeat_requests: int,
    repeat_acks: list[float],
    repeat_answers: list[float],
) -> Result:
    result = Result(4, "20 nominations of new papers within 1 s")
    floor = 1 + math.ceil(span / SPACING)
    sizes = [len(r.ids) for r in recorded]
    carried = f"{len(sizes)} × 1" if set(sizes) == {1} else "+".join(map(str, sizes))
    result.add(
        Figure(
            "arXiv requests for 20 new papers",
            f"{len(recorded)} ({carried} ids)",
            f"{floor} (1 at once + 1 per 3 s of a {span:.2f} s burst)",
            len(recorded) / floor,
            1.0,
            "≤ 1.00 (1 per 3 s, id_list)",
        )
    )
    gaps = [b.time - a.time for a, b in itertools.pairwise(recorded)]
    if gaps:
        result.add(
            Figure(
                "arXiv requests, shortest gap",
                f"{min(gaps):.2f} s",
                f"{SPACING:.0f} s spacing",
                SPACING / min(gaps),
                1.0,
                "≤ 1.00 (never sooner)",
                runs=len(gaps),
            )
        )
    lone_ack = statistics.median(lone_acks)
    p50, p99, top = spread(acks)
    result.add(
        Figure(
            "ack, 20 nominations within 1 s",
            f"p50 {ms(p50)} · p99 {ms(p99)} · max {ms(top)}",
            f"lone p50 {ms(lone_ack)} ({len(lone_acks)} runs)",
            top / lone_ack,
            target="max < 3 s (Slack)",
            runs=len(acks),
            met=top < SLACK_DEADLINE,
        )
    )
    p50, p99, top = spread(answers)
    floor_answer = lone_new + SPACING
    result.add(
        Figure(
            "answer (channel post), 20 nominations",
            f"p50 {ms(p50)} · p99 {ms(p99)} · max {ms(top)}",
            f"lone new paper {ms(lone_new)} + 3 s = {ms(floor_answer)}",
            top / floor_answer,
            ANSWER_LIMIT,
            f"≤ {ANSWER_LIMIT:.2f}",
            runs=len(answers),
        )
    )
    result.add(
        Figure(
            "repeat nomination (other member, other group)",
            f"{repeat_requests} arXiv requests; answer max {ms(max(repeat_answers))}",
            f"lone known paper {ms(lone_known)} ({LONE - 1} runs)",
            max(repeat_answers) / lone_known,
            target="0 requests",
            runs=len(repeat_answers),
            met=repeat_requests == 0 and max(repeat_acks) < SLACK_DEADLINE,
        )
    )
    result.note(
        "arXiv requests at +"
        + ", +".join(f"{r.time - recorded[0].time:.2f} s" for r in recorded)
        + f"; lone ack p50 {ms(lone_ack)}, lone new-paper answer {ms(lone_new)}"
    )
    return result


async def run() -> Result:
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        with tempfile.TemporaryDirectory() as folder, serve_fake_arxiv() as arxiv_fake:
            return await measure(Path(folder), fake, arxiv_fake)
    finally:
        await runner.cleanup()
