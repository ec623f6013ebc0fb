"""A real ``yomikai run`` killed with SIGKILL at chosen moments, restarted on the same database.

The bot runs in Slack HTTP mode against the fake Slack on 127.0.0.1 (and the fake arXiv). The
fake holds an answer where a test wants the bot to die mid-send: it has done the call (the
message is in the channel's history) but the answer never comes, and the bot is killed while
it waits. After the restart, what is stored and what the channel shows are checked: every
acknowledged request has its effect, every post exists exactly once, the ballot is closed in
place. ``docs/reliability.md`` lists what these tests measure.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update
from sqlmodel import select

from storage.db import Database
from storage.models import Member, OutboxPost, ReadingSession, Vote
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import SECRET, SlackSide, buttons, tallies, user_id

pytestmark = pytest.mark.both_engines

ROOT = Path(__file__).resolve().parents[1]
CLOSED_PORT = "http://127.0.0.1:9/api"
"""Trending sources the bot must not reach (nothing listens there)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Bot:
    """One ``yomikai run`` process; started again on the same database and port."""

    def __init__(self, tmp: Path, database_url: str, slack: FakeSlack, arxiv: FakeArxiv) -> None:
        self.port = free_port()
        self.log = tmp / "bot.log"
        self.env = os.environ | {
            "YOMIKAI_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-4830127645412-7264519830417-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "YOMIKAI_HTTP_PORT": str(self.port),
            "YOMIKAI_ARXIV_API_URL": arxiv.url,
            "YOMIKAI_HF_API_URL": CLOSED_PORT,
            "YOMIKAI_PWC_API_URL": CLOSED_PORT,
            "YOMIKAI_ARXIV_HTML_URL": CLOSED_PORT,  # (no card draft reaches out)
            "YOMIKAI_AR5IV_URL": CLOSED_PORT,
            "YOMIKAI_ARXIV_SPACING": "0",  # (the fake arXiv needs no politeness)
            "YOMIKAI_SEND_LEASE": "3",  # (a killed sender's post goes again 3 s on, not 15)
        }
        for name in ("SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN"):
            self.env.pop(name, None)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"\n--- start {self.starts} ---\n")
        handle = self.log.open("a")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "adapters.cli", "-v", "run",
            cwd=ROOT, env=self.env, stdout=handle, stderr=handle, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        handle.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                assert self.process.returncode is None, self.log.read_text()
                await asyncio.sleep(0.1)
        raise AssertionError(f"the bot did not start:\n{self.log.read_text()}")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                await self.kill()


@pytest.fixture
async def bot(tmp_path: Path, database_url: str, fake_slack: FakeSlack, fake_arxiv: FakeArxiv):
    running = Bot(tmp_path, database_url, fake_slack, fake_arxiv)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def slack(bot: Bot, fake_slack: FakeSlack):
    async with aiohttp.ClientSession() as http:
        adapter = SimpleNamespace(socket_mode=False, port=bot.port)
        yield SlackSide(adapter, fake_slack, http)  # type: ignore[arg-type]


async def ok(slack: SlackSide, user: str, line: str) -> None:
    status, body, _ = await slack.command(user, line)
    assert (status, body) == (200, "")


async def until(check: Any, timeout: float = 60.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def group_with_ballot(slack: SlackSide, db: Database, papers: list[str]) -> dict:
    fake = slack.fake
    await ok(slack, "alice", "/yomikai setup papers 3")
    for job in ("poll", "open", "close", "remind", "meet"):  # nothing runs by itself meanwhile
        await ok(slack, "alice", f"/yomikai schedule {job} off")
    for paper in papers:
        await ok(slack, "alice", f"/nominate {paper}")
    await until(
        lambda: len([t for t in texts(fake) if " nominated " in t]) == len(papers),
        what="the nominations",
    )
    await ok(slack, "alice", "/yomikai open")
    (ballot,) = await until(
        lambda: [m for m in fake.posts() if any(b.get("accessory") for b in m["blocks"] or [])],
        what="the ballot",
    )
    return ballot


def sent_state(db: Database) -> dict[str, int]:
    with db.session() as session:
        states: dict[str, int] = {}
        for post in session.exec(select(OutboxPost)):
            states[post.state] = states.get(post.state, 0) + 1
        return states


def texts(fake: FakeSlack) -> list[str]:
    return [str(m.get("text") or "").split("\n")[0] for m in fake.posts()]


async def test_killed_mid_burst_every_acknowledged_vote_counts(
    bot: Bot, slack: SlackSide, db: Database
) -> None:
    ballot = await group_with_ballot(slack, db, ["2204.06974", "2204.00598"])
    action = next(b["accessory"]["action_id"] for b in ballot["blocks"] if b.get("accessory"))
    voters = [f"voter{n:03d}" for n in range(120)]
    acknowledged: list[str] = []
    enough = asyncio.Event()
    limit = asyncio.Semaphore(40)

    async def click(voter: str) -> None:
        async with limit:
            if enough.is_set():
                return
            try:
                status, _, _ = await slack.click(voter, action, ballot["ts"])
            except aiohttp.ClientError:  # the bot died under this request
                return
            if status == 200:
                acknowledged.append(voter)
                if len(acknowledged) >= 60:
                    enough.set()

    clicks = [asyncio.create_task(click(voter)) for voter in voters]
    await enough.wait()
    await bot.kill()
    await asyncio.gather(*clicks)
    killed_with = _votes(db)
    await bot.start()

    expected = {user_id(voter) for voter in acknowledged}
    await until(lambda: expected <= _votes(db), what="every acknowledged vote")
    assert len(acknowledged) >= 60 and len(killed_with) < len(voters)

    # The ballot shows the stored tally again (redrawn at start, or by the replayed votes).
    def redrawn() -> bool:
        updates = [c for c in slack.fake.to("chat.update") if c.args.get("ts") == ballot["ts"]]
        return bool(updates) and tallies(updates[-1])[0] == len(_votes(db))

    await until(redrawn, what="the ballot redrawn to the stored tally")


def _votes(db: Database) -> set[str]:
    with db.session() as session:
        rows = session.exec(select(Member.user_id).join(Vote, Vote.member_id == Member.id))
        return set(rows.all())


async def test_killed_while_posting_the_cards_each_card_goes_once(
    bot: Bot, slack: SlackSide, db: Database
) -> None:
    fake = slack.fake
    papers = ["2204.06974", "2204.00598", "2203.14465"]
    await group_with_ballot(slack, db, papers)
    await ok(slack, "alice", "/yomikai close")
    await until(lambda: any("Session of" in t for t in texts(fake)), what="the agenda")
    for number in (1, 2, 3):
        await ok(
            slack,
            "alice",
            f"/card {number} purpose: p{number} results: r method: m model: X affiliations: Lab",
        )
    with db.session() as session:  # the session meets in an hour: the meeting can start
        soon = datetime.now(UTC) + timedelta(hours=1)
        session.execute(update(ReadingSession).values(meets_at=soon))
    fake.fail("chat.postMessage", "ok", "hold")  # card 1 goes out; card 2 is out, unanswered
    await ok(slack, "alice", "/yomikai meet")
    await until(lambda: fake.held, what="card 2 in flight")
    await bot.kill()
    await bot.start()

    def cards() -> list[str]:
        return [t for t in texts(fake) if t.startswith("Card ")]

    await until(lambda: len(cards()) >= 3, what=f"the three cards ({texts(fake)})")
    await until(lambda: sent_state(db).keys() == {"sent"}, what="every post recorded as sent")
    assert sorted(cards()) == sorted(set(cards())) and len(cards()) == 3, cards()


async def test_killed_while_the_agenda_is_posted_it_goes_once_and_the_ballot_closes(
    bot: Bot, slack: SlackSide, db: Database
) -> None:
    fake = slack.fake
    ballot = await group_with_ballot(slack, db, ["2204.06974", "2204.00598"])
    fake.fail("chat.postMessage", "hold")
    await ok(slack, "alice", "/yomikai close")
    await until(lambda: fake.held, what="the agenda in flight")
    await bot.kill()
    await bot.start()
    await until(lambda: sent_state(db).keys() == {"sent"}, what="every post recorded as sent")
    agendas = [t for t in texts(fake) if t.startswith("Session of")]
    assert len(agendas) == 1
    redrawn = [c for c in fake.to("chat.update") if c.args.get("ts") == ballot["ts"]]
    assert redrawn and buttons(redrawn[-1]) == []  # closed in place: no vote buttons


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://yomikai@127.0.0.1:1/yomikai", "sqlite:////nonexistent/dir/y.db"],
)
def test_a_database_that_does_not_answer_at_start_is_explained(
    url: str, engine: str, tmp_path: Path
) -> None:
    if engine != "sqlite":
        pytest.skip("one run is enough: the URL names its own engine")
    import subprocess

    env = os.environ | {"YOMIKAI_DATABASE_URL": url, "YOMIKAI_LOG_FILE": str(tmp_path / "l")}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert "Yomikai cannot start: the database" in said and "YOMIKAI_DATABASE_URL" in said
    assert "Traceback" not in said and len(said.splitlines()) <= 6, said


async def test_killed_while_the_ballot_is_posted_it_goes_once_and_keeps_working(
    bot: Bot, slack: SlackSide, db: Database
) -> None:
    fake = slack.fake
    await ok(slack, "alice", "/yomikai setup")
    for job in ("poll", "open", "close", "remind", "meet"):
        await ok(slack, "alice", f"/yomikai schedule {job} off")
    await ok(slack, "alice", "/nominate 2204.06974")
    await until(lambda: any(" nominated " in t for t in texts(fake)), what="the nomination")
    fake.fail("chat.postMessage", "hold")
    await ok(slack, "alice", "/yomikai open")
    await until(lambda: fake.held, what="the ballot in flight")
    await bot.kill()
    await bot.start()
    await until(lambda: sent_state(db).keys() == {"sent"}, what="every post recorded as sent")
    ballots = [m for m in fake.posts() if any(b.get("accessory") for b in m["blocks"] or [])]
    assert len(ballots) == 1  # found in the channel's history, not posted again
    (action,) = buttons(fake.held[0])
    await slack.click("bob", action, ballots[0]["ts"])  # its reference was recorded: in place
    await until(
        lambda: any(
            c.args.get("ts") == ballots[0]["ts"] and "votes: 1" in str(c.args)
            for c in fake.to("chat.update")
        ),
        what="the ballot redrawn with the vote",
    )


async def test_killed_while_a_reminder_is_sent_it_goes_once(
    bot: Bot, slack: SlackSide, db: Database
) -> None:
    fake = slack.fake
    await group_with_ballot(slack, db, ["2204.06974"])
    before = len(fake.posts())
    await ok(slack, "alice", "/yomikai join")  # the presenter whose card is not finished
    await until(lambda: len(fake.posts()) > before, what="the join announced")
    await ok(slack, "alice", "/yomikai close")
    await until(lambda: any(t.startswith("Session of") for t in texts(fake)), what="the agenda")
    fake.fail("chat.postMessage", "ok", "hold")  # the agenda goes out; the DM is out, unanswered
    await ok(slack, "alice", "/yomikai remind")
    await until(lambda: fake.held, what="the reminder in flight")
    await bot.kill()
    await bot.start()
    await until(lambda: sent_state(db).keys() == {"sent"}, what="every post recorded as sent")
    dms = [m for channel, posts in fake.history.items() if channel.startswith("D") for m in posts]
    assert len(dms) == 1 and "card 1" in dms[0]["text"]
    assert len([t for t in texts(fake) if t.startswith("Session of")]) == 2  # close, remind
