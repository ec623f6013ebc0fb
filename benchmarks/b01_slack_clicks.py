"""Benchmarks 1 and 2: fifty people click at once, in Slack's HTTP mode.

1. 1,000 signed vote clicks from 50 concurrent clients, acknowledgement latency p50/p99/max,
   against a bare ``slack_bolt`` ``AsyncApp`` served the same way (aiohttp on 127.0.0.1,
   ``to_bolt_request``/``async_dispatch``) whose only listener acknowledges. Rounds alternate
   A B A B (250 clicks each), so both see the same machine. Yomikai records every click in the
   inbox before it acknowledges (nothing acknowledged is lost); the bare app records nothing,
   so the ratio is what that promise costs. Each click is a different member, and every vote
   must be stored exactly once.
2. The ballot's ``chat.update`` calls during those bursts: at most one per second per ballot,
   and the last one drawn shows the exact tally.

Everything talks to the fake Slack of the tests; the core runs on a SQLite file.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from sqlmodel import func, select

from benchmarks.processes import Server, free_ports, python_module, serve, yomikai_run
from benchmarks.report import Figure, Result, check, ms, spread
from storage.db import Database
from storage.models import Vote
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import SECRET, SlackSide, buttons, tallies

CLIENTS = 50
CLICKS_PER_CLIENT_PER_ROUND = 5
ROUNDS = 4
"""Rounds per app, alternated A B A B: 4 × 50 × 5 = 1,000 clicks each."""
P99_LIMIT = 1.3


async def burst(side: SlackSide, round_no: int, action: str, ts: str) -> list[float]:
    """50 clients, each clicking 5 times in a row; every click a new member. Ack times."""

    async def client(c: int) -> list[float]:
        took = []
        for k in range(CLICKS_PER_CLIENT_PER_ROUND):
            status, _, seconds = await side.click(f"r{round_no}c{c:02d}k{k}", action, ts)
            check(status == 200, f"a click was answered {status}")
            took.append(seconds)
        return took

    per_client = await asyncio.gather(*(client(c) for c in range(CLIENTS)))
    return [t for times in per_client for t in times]


def votes(db: Database) -> tuple[int, int]:
    """(votes stored, distinct members who voted)."""
    with db.session(read_only=True) as session:
        count = session.exec(select(func.count()).select_from(Vote)).one()
        members = session.exec(select(func.count(func.distinct(Vote.member_id)))).one()
    return int(count), int(members)


async def run() -> list[Result]:
    fake = FakeSlack()
    fake_runner, fake.base = await serve(fake.app())
    with tempfile.TemporaryDirectory() as name, serve_fake_arxiv() as arxiv_fake:
        folder = Path(name)
        url = f"sqlite:///{folder / 'bench.db'}"
        env = {
            "YOMIKAI_DATABASE_URL": url,
            "SLACK_BOT_TOKEN": "xoxb-4830127645412-7264519830417-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "YOMIKAI_ARXIV_API_URL": arxiv_fake.url,
            "YOMIKAI_ARXIV_SPACING": "0",
        }
        ours, floor = free_ports(2)
        bot = yomikai_run(env, ours, folder)
        bare = python_module("benchmarks.bare_slack", [str(floor), fake.api_url], floor, folder)
        db: Database | None = None
        try:
            await bot.ready()
            await bare.ready()
            db = Database(url)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as http:
                return await measure(db, bot, fake, http, bare)
        finally:
            bot.stop()
            bare.stop()
            if db is not None:
                db.dispose()
            await fake_runner.cleanup()


async def settled(fake: FakeSlack, db: Database, ts: str, clicks: int) -> None:
    """Wait (bounded) until every click's vote is stored, answered and drawn on the ballot."""
    for _ in range(3000):
        drawn = [c for c in fake.to("chat.update") if c.args.get("ts") == ts]
        answered = len(fake.to("response_url"))
        if (
            votes(db)[0] >= clicks
            and answered >= clicks
            and drawn
            and sum(tallies(drawn[-1])) >= clicks
        ):
            return
        await asyncio.sleep(0.01)
    check(False, f"{votes(db)[0]} of {clicks} votes stored and drawn after 30 s")


async def measure(
    db: Database, bot: Server, fake: FakeSlack, http: aiohttp.ClientSession, bare: Server
) -> list[Result]:
    ours = SlackSide(SimpleNamespace(socket_mode=False, port=bot.port), fake, http)  # type: ignore[arg-type]
    floor = SlackSide(SimpleNamespace(socket_mode=False, port=bare.port), fake, http)  # type: ignore[arg-type]
    await ours.command("alice", "/yomikai setup")
    await ours.command("alice", "/nominate 2204.06974")
    await fake.wait_calls("chat.postMessage", 2)
    await ours.command("alice", "/yomikai open")
    ballot = await fake.wait_for(lambda: [c for c in fake.to("chat.postMessage") if buttons(c)])
    action, ts = buttons(ballot[0])[0], str(ballot[0].result["ts"])
    updates_before = len(fake.to("chat.update"))

    yomikai: list[float] = []
    bolt: list[float] = []
    ours_cpu = bare_cpu = 0.0
    for round_no in range(ROUNDS):
        used = bot.cpu_seconds()
        yomikai += await burst(ours, round_no, action, ts)
        await settled(fake, db, ts, len(yomikai))  # the floor's round runs on a quiet bot
        ours_cpu += bot.cpu_seconds() - used
        used = bare.cpu_seconds()
        bolt += await burst(floor, ROUNDS + round_no, action, ts)
        bare_cpu += bare.cpu_seconds() - used

    stored, members = votes(db)
    check(stored == len(yomikai), f"{stored} votes stored for {len(yomikai)} clicks")
    check(members == len(yomikai), f"{members} members voted, {len(yomikai)} clicked")

    updates = [c for c in fake.to("chat.update")[updates_before:] if c.args.get("ts") == ts]
    check(bool(updates), "the ballot was never redrawn")
    final = tallies(updates[-1])
    check(sum(final) == stored, f"the last redraw shows {sum(final)} votes, {stored} stored")
    times = [c.time for c in updates]
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    gaps = [b - a for a, b in itertools.pairwise(times)]

    ours_p50, ours_p99, ours_max = spread(yomikai)
    bare_p50, bare_p99, bare_max = spread(bolt)
    clicks = Result(1, "1,000 Slack vote clicks from 50 concurrent clients (HTTP mode)")
    clicks.add(
        Figure(
            "ack p99",
            ms(ours_p99),
            ms(bare_p99),
            ours_p99 / bare_p99,
            P99_LIMIT,
            f"≤ {P99_LIMIT}",
            runs=len(yomikai),
        )
    )
    clicks.add(Figure("ack p50", ms(ours_p50), ms(bare_p50), ours_p50 / bare_p50, runs=len(bolt)))
    clicks.add(Figure("ack max", ms(ours_max), ms(bare_max), ours_max / bare_max, runs=ROUNDS))
    ours_per, bare_per = ours_cpu / len(yomikai), bare_cpu / len(bolt)
    clicks.add(
        Figure(
            "CPU per click (until stored, answered, drawn)",
            ms(ours_per),
            ms(bare_per),
            ours_per / bare_per,
            runs=ROUNDS,
        )
    )
    clicks.add(
        Figure(
            "votes stored once",
            f"{stored} of {len(yomikai)}",
            target="every vote once",
            met=stored == members == len(yomikai),
        )
    )
    tally = Result(2, "Tally edits during that burst")
    tally.add(
        Figure(
            "chat.update in the busiest second (one ballot)",
            str(busiest),
            target="≤ 1",
            runs=len(updates),
            met=busiest <= 1,
        )
    )
    tally.add(
        Figure(
            "final tally drawn",
            f"{sum(final)} votes",
            f"{stored} stored",
            target="exact",
            met=sum(final) == stored,
        )
    )
    tally.note(
        f"{len(updates)} chat.update calls for {len(yomikai)} clicks;"
        f" shortest gap between two {min(gaps, default=0.0):.2f} s"
    )
    return [clicks, tally]


if __name__ == "__main__":
    print(asyncio.run(run()))
