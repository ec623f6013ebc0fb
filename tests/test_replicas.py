"""Four bot processes on one database behind one (fake) Slack: nothing doubled, nothing lost.

200 vote clicks are spread over the four replicas' HTTP endpoints, then all four walk the same
simulated week, so every scheduled post falls due in all of them at once.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from adapters.slack import build
from bot.config import Settings
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.models import Vote
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import FakeSlack
from tests.fakes.week import run_until
from tests.slack.slack_side import CHANNEL, SECRET, SlackSide, buttons, tallies

pytestmark = [pytest.mark.both_engines, pytest.mark.timeout(240)]

REPLICAS = 4
VOTERS = 40
PAPERS = ["2204.06974", "2204.00598", "2203.14465", "2204.03458", "2203.15556"]
START = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # Sunday, 09:00 in Tokyo
END = datetime(2026, 12, 10, 0, 0, tzinfo=UTC)


def _replica(
    url: str, arxiv_url: str, slack_api: str, ready: Any, go: Any, step: Any, done: Any
) -> None:
    """One bot process: the Slack adapter in HTTP mode, then a walk through the week."""

    async def main() -> None:
        db = Database(url)
        clock = ManualClock(START)
        arxiv = ArxivSource(arxiv_url, delay_seconds=0, timeout_seconds=5)
        defaults = GroupDefaults(timezone="Asia/Tokyo")
        core = Yomikai(db, Services(PaperCatalog(db, arxiv), defaults), clock)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            SLACK_BOT_TOKEN="xoxb-4830127645412-7264519830417-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack_api,
        )
        adapter = build(settings, core, host="127.0.0.1", port=0, redraw_interval=0.2)
        await adapter.start()
        core.connect(adapter)
        ready.put(adapter.port)
        await asyncio.to_thread(go.wait, 180)
        await run_until(core, clock, END, lambda: asyncio.to_thread(step.wait, 60))
        await adapter.stop()
        await arxiv.aclose()
        db.dispose()
        done.put("ok")

    asyncio.run(main())


async def test_four_replicas_count_every_vote_and_post_once(
    database_url: str, fake_slack: FakeSlack, fake_arxiv: FakeArxiv, db: Database
) -> None:
    context = multiprocessing.get_context("spawn")
    ready, done, go = context.Queue(), context.Queue(), context.Event()
    step = context.Barrier(REPLICAS)  # the replicas walk the week in step, as if on one clock
    args = (database_url, fake_arxiv.url, fake_slack.api_url, ready, go, step, done)
    replicas = [context.Process(target=_replica, args=args) for _ in range(REPLICAS)]
    for replica in replicas:
        replica.start()
    try:
        ports = [await asyncio.to_thread(ready.get, True, 120) for _ in replicas]
        async with aiohttp.ClientSession() as http:
            sides = [
                SlackSide(SimpleNamespace(socket_mode=False, port=port), fake_slack, http)  # type: ignore[arg-type]
                for port in ports
            ]
            numbers = itertools.count(1)  # trigger ids unique across the four senders
            for side in sides:
                side._ids = numbers
            await week_in_slack(sides, fake_slack, db)
            before_week = len(
                [c for c in fake_slack.to("chat.postMessage") if c.args["channel"] == CHANNEL]
            )
    finally:
        go.set()  # all four walk the same week at once
        outcomes = [await asyncio.to_thread(done.get, True, 180) for _ in replicas]
        for replica in replicas:
            await asyncio.to_thread(replica.join, 30)
    assert outcomes == ["ok"] * REPLICAS
    assert all(replica.exitcode == 0 for replica in replicas)

    channel = [c for c in fake_slack.to("chat.postMessage") if c.args["channel"] == CHANNEL]
    week = [c.args["text"].split("\n")[0] for c in channel[before_week:]]
    # Each scheduled post once, though all four replicas found it due: Tuesday's close, the
    # leftover papers' ballot next Monday, the two reminders, the next close, the meeting.
    assert sorted(week) == sorted(
        [
            "Session of 2026-12-09 17:00",
            "Candidates for the next session",
            "Session of 2026-12-09 17:00",
            "Session of 2026-12-16 17:00",
            "Session of 2026-12-09 17:00",
            "Cards still missing",
        ]
    ), week
    dms = [c for c in fake_slack.to("chat.postMessage") if c.args["channel"].startswith("D")]
    assert len(dms) == 2  # the one presenter, two days and one hour before the meeting


async def week_in_slack(sides: list[SlackSide], fake: FakeSlack, db: Database) -> None:
    # Each of these is announced in the channel; wait for it, as the next depends on it.
    await announced(sides[0], "alice", "/yomikai setup papers 1 candidates 5")
    await announced(sides[1], "alice", "/yomikai join")
    for index, paper in enumerate(PAPERS):
        await announced(sides[index % REPLICAS], "alice", f"/nominate {paper}")
    await command_ok(sides[2], "alice", "/yomikai open")
    ballot = await fake.wait_for(
        lambda: [c for c in fake.to("chat.postMessage") if buttons(c)], what="the ballot"
    )
    action_ids, ts = buttons(ballot[0]), ballot[0].result["ts"]
    assert len(action_ids) == len(PAPERS)

    clicks = [(f"voter{n:02d}", action) for n in range(VOTERS) for action in action_ids]
    assert len(clicks) == 200
    limit = asyncio.Semaphore(25)

    async def click(index: int, user: str, action: str) -> None:
        async with limit:
            status, _, took = await sides[index % REPLICAS].click(user, action, ts)
            assert status == 200 and took < 3.0

    await asyncio.gather(*(click(i, user, action) for i, (user, action) in enumerate(clicks)))
    await fake.wait_for(
        lambda: len([c for c in fake.to("response_url") if "counts" in str(c.args)]) >= 200,
        timeout=60,
        what=f"200 vote confirmations ({other_answers(fake)})",
    )
    with db.session() as session:
        assert len(session.exec(select(Vote)).all()) == 200

    # Each replica redraws the ballot after its own clicks, and whichever edit reaches Slack last
    # stays: once they settle (a last read 0.2 s after each one's last edit), it shows every vote.
    def last_drawn() -> list[int]:
        updates = [c for c in fake.to("chat.update") if c.args["ts"] == ts]
        return tallies(updates[-1]) if updates else []

    every_vote = [VOTERS] * len(PAPERS)
    await fake.wait_for(lambda: last_drawn() == every_vote, timeout=30, what="the final tallies")
    await asyncio.sleep(1.0)  # five redraw intervals: no late edit takes it back
    assert last_drawn() == every_vote


def other_answers(fake: FakeSlack) -> list[str]:
    return [
        str(c.args.get("text"))[:80] for c in fake.to("response_url") if "counts" not in str(c.args)
    ]


async def announced(side: SlackSide, user: str, line: str) -> None:
    """Run a command on one replica and wait for its post in the channel."""
    before = len(side.fake.to("chat.postMessage"))
    await command_ok(side, user, line)
    await side.fake.wait_for(
        lambda: len(side.fake.to("chat.postMessage")) > before,
        timeout=30,
        what=f"the post of {line} (answers: {[c.args for c in side.fake.to('response_url')]})",
    )


async def command_ok(side: SlackSide, user: str, line: str) -> None:
    status, body, took = await side.command(user, line)
    assert (status, body) == (200, "") and took < 3.0
