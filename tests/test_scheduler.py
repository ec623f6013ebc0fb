"""Scheduling rules, the schedule command, APScheduler wiring, and exactly-once across restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.clock import Clock
from bot.context import Services
from bot.core import Yomikai
from bot.delivery.errors import DeliveryError
from bot.group_setup import GroupDefaults
from bot.messages import CandidateList, Message
from bot.papers import PaperCatalog
from bot.schedule import Rule, latest_due, next_due, rules
from bot.scheduler import Scheduler
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.trending import TrendingChain
from storage.db import Database
from storage.models import Group, JobRun, OutboxPost
from tests.fakes.chat import FakeChat, ManualClock
from tests.fakes.trending_servers import FakeHuggingFace
from tests.fakes.week import run_until

pytestmark = pytest.mark.both_engines

MONDAY_10_TOKYO = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def group(**schedule: str) -> Group:
    return Group(
        platform="p",
        channel_id="c",
        timezone="Asia/Tokyo",
        meeting_weekday=2,
        meeting_time=time(17, 0),
        schedule=schedule,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_default_rules() -> None:
    g = group()
    assert rules(g, "poll") == [Rule(None, time(9, 0))]
    assert rules(g, "open") == [Rule(0, time(10, 0))]
    assert rules(g, "close") == [Rule(1, time(18, 0))]
    assert rules(g, "remind") == [Rule(0, time(17, 0)), Rule(2, time(16, 0))]
    assert rules(g, "meet") == [Rule(2, time(17, 0))]
    assert rules(group(open="off"), "open") == []


def test_a_remind_before_a_monday_meeting_wraps_to_the_week_before() -> None:
    g = group()
    g.meeting_weekday, g.meeting_time = 0, time(0, 30)
    assert rules(g, "remind") == [Rule(5, time(0, 30)), Rule(6, time(23, 30))]


def test_due_times_respect_the_grace_period() -> None:
    g = group()
    hour = timedelta(hours=1)
    assert latest_due(g, "open", MONDAY_10_TOKYO + timedelta(minutes=40), hour) == MONDAY_10_TOKYO
    assert latest_due(g, "open", MONDAY_10_TOKYO + timedelta(minutes=61), hour) is None
    assert latest_due(g, "open", MONDAY_10_TOKYO - timedelta(seconds=1), hour) is None
    assert next_due(g, "open", MONDAY_10_TOKYO) == MONDAY_10_TOKYO + timedelta(days=7)


async def test_schedule_command(chat: FakeChat, clock: ManualClock) -> None:
    clock.current = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo")
    shown = await chat.text("alice", "/yomikai schedule")
    assert "open: Monday 10:00 — next 2026-11-30 10:00" in shown
    assert "remind: Monday 17:00, Wednesday 16:00" in shown
    changed = await chat.text("alice", "/yomikai schedule open thu 08:30")
    assert "open: Thursday 08:30 — next 2026-12-03 08:30" in changed
    assert "poll: off" in await chat.text("alice", "/yomikai schedule poll off")
    assert "meet: Friday 18:00" in await chat.text("alice", "/yomikai schedule meet fri 18:00")
    assert "Meeting: Friday 18:00" in await chat.text("alice", "/yomikai status")
    assert "remind: Wednesday 18:00, Friday 17:00" in await chat.text("alice", "/yomikai schedule")


@pytest.mark.parametrize(
    "line",
    [
        "/yomikai schedule open funday 25:00",
        "/yomikai schedule open mon 25:00",
        "/yomikai schedule open mon",
        "/yomikai schedule open daily 10:00",
        "/yomikai schedule close 10:00 tue",
    ],
)
async def test_bad_schedules_show_the_accepted_forms(chat: FakeChat, line: str) -> None:
    await chat.say("alice", "/yomikai setup")
    problem = await chat.problem("alice", line)
    assert "mon 10:00" in problem.text and "off" in problem.text
    assert problem.example == "/yomikai schedule open mon 10:00"


async def test_unknown_job_and_non_organizers(chat: FakeChat) -> None:
    await chat.say("alice", "/yomikai setup")
    assert (
        "no job “lunch”" in (await chat.problem("alice", "/yomikai schedule lunch mon 12:00")).text
    )
    assert "Only organizers" in (await chat.problem("bob", "/yomikai schedule")).text
    assert "Only organizers" in (await chat.problem("bob", "/yomikai remind")).text


async def test_jobs_run_by_hand(chat: FakeChat, clock: ManualClock) -> None:
    await chat.say("alice", "/yomikai setup papers 1")
    assert "Nothing to remind" in await chat.text("alice", "/yomikai remind")
    assert "no session meets around now" in await chat.text("alice", "/yomikai meet")
    assert "0 new trending papers" in await chat.text("alice", "/yomikai poll")
    await chat.say("alice", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    said = await chat.text("alice", "/yomikai remind")
    assert "1 posts in the channel, 1 direct reminders" in said
    assert [s.kind for s in chat.announced[-2:]] == ["post", "dm"]  # the agenda, a reminder


# --- restarts and late starts ----------------------------------------------------------------


async def setup_monday(chat: FakeChat, clock: ManualClock) -> None:
    clock.current = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo")
    await chat.say("alice", "/nominate 2204.06974")


async def test_a_bot_that_starts_late_within_grace_opens_once(
    chat: FakeChat, clock: ManualClock
) -> None:
    await setup_monday(chat, clock)
    clock.current = MONDAY_10_TOKYO + timedelta(minutes=40)
    first = Scheduler(chat.core)
    await first.start()
    await first.stop()
    clock.advance(minutes=5)
    second = Scheduler(chat.core)  # restarted again, still within the hour
    await second.start()
    await second.stop()
    assert [type(s.message) for s in chat.sent] == [CandidateList]


async def test_a_bot_that_starts_on_wednesday_opens_no_stale_round(
    chat: FakeChat, clock: ManualClock
) -> None:
    await setup_monday(chat, clock)
    clock.current = MONDAY_10_TOKYO + timedelta(days=2)
    scheduler = Scheduler(chat.core)
    await scheduler.start()
    await scheduler.stop()
    assert chat.sent == []


async def test_apscheduler_jobs_follow_the_stored_schedule(
    chat: FakeChat, clock: ManualClock
) -> None:
    clock.current = datetime.now(UTC)
    scheduler = Scheduler(chat.core)
    await scheduler.start()
    try:
        assert scheduler.next_runs() == {}  # a group without setup has no jobs
        await chat.say("alice", "/yomikai setup timezone Asia/Tokyo")
        runs = scheduler.next_runs()
        assert set(runs) == {
            "1:poll:0",
            "1:open:0",
            "1:close:0",
            "1:remind:0",
            "1:remind:1",
            "1:meet:0",
        }
        with chat.core.db.session() as session:
            stored = session.exec(select(Group)).one()
        for job_id, when in runs.items():
            job = job_id.split(":")[1]
            assert when.utcoffset() == timedelta(hours=9)
            assert when in {
                t
                for rule in rules(stored, job)
                for t in rule.occurrences(
                    clock.current, clock.current + timedelta(days=8), when.tzinfo
                )
            }
        await chat.say("alice", "/yomikai schedule open thu 08:30")  # rescheduled at once
        opened = scheduler.next_runs()["1:open:0"]
        assert (opened.weekday(), opened.hour, opened.minute) == (3, 8, 30)
        await chat.say("alice", "/yomikai schedule open off")
        assert "1:open:0" not in scheduler.next_runs()
        job = scheduler.aps.get_job("1:close:0")
        assert job.misfire_grace_time == 3600 and job.coalesce is True
    finally:
        await scheduler.stop()


async def test_two_cores_on_one_database_post_once(
    chat: FakeChat, clock: ManualClock, db: Database, arxiv: ArxivSource
) -> None:
    """Two bot instances (a restart overlapping, or two replicas) run the same due job."""
    await setup_monday(chat, clock)
    twin = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), clock)
    twin.connect(chat)
    clock.current = MONDAY_10_TOKYO + timedelta(seconds=1)
    await asyncio.gather(
        chat.core.jobs.run_scheduled(1, "open"), twin.jobs.run_scheduled(1, "open")
    )
    assert [type(s.message) for s in chat.sent] == [CandidateList]
    with db.session() as session:
        ballot = session.exec(select(OutboxPost).where(OutboxPost.key == "ballot:1")).one()
        assert ballot.state == "sent" and ballot.attempts == 1  # sent once, by one of them
        assert len(session.exec(select(JobRun)).all()) == 1  # the job's claim


async def test_a_ballot_the_open_job_could_not_post_goes_out_later_once(
    chat: FakeChat, clock: ManualClock, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ballot whose first post fails is tried again by the delivery loop, once, after
    looking for the first attempt on the platform."""
    await setup_monday(chat, clock)
    clock.current = MONDAY_10_TOKYO + timedelta(seconds=1)
    looked_since: list[datetime | None] = []
    post = chat.post

    async def fails_once(
        channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        looked_since.append(since)
        if len(looked_since) == 1:
            raise DeliveryError("Slack answered 500", transient=True)
        return await post(channel_id, message, key=key, since=since)

    monkeypatch.setattr(chat, "post", fails_once)
    await chat.core.jobs.run_scheduled(1, "open")
    with db.session() as session:
        ballot = session.exec(select(OutboxPost).where(OutboxPost.key == "ballot:1")).one()
        assert (ballot.state, ballot.attempts) == ("pending", 1) and ballot.due_at is not None
    assert chat.sent == []
    clock.advance(minutes=5)
    assert await chat.core.delivery.pass_once() == 1
    assert [type(s.message) for s in chat.sent] == [CandidateList]
    assert looked_since[0] is None and looked_since[1] == clock.current - timedelta(minutes=5)
    with db.session() as session:
        ballot = session.exec(select(OutboxPost).where(OutboxPost.key == "ballot:1")).one()
        assert (ballot.state, ballot.attempts) == ("sent", 2)


# --- two real processes ----------------------------------------------------------------------


class FileAdapter:
    """What one bot process posts, appended as JSON lines to a file both processes share."""

    platform = "fake"

    def __init__(self, path: str, clock: Clock, name: str) -> None:
        self.path, self.clock, self.name = path, clock, name

    def _write(self, kind: str, target: str, message: Message) -> str:
        line = {
            "at": self.clock.now().isoformat(),
            "kind": kind,
            "target": target,
            "what": type(message).__name__,
            "by": self.name,
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        return f"{self.name}-{line['at']}"

    async def post(self, channel_id: str, message: Message, **_: Any) -> str:
        return self._write("post", channel_id, message)

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        self._write("update", channel_id, message)

    async def dm(self, user_id: str, message: Message, **_: Any) -> str | None:
        return self._write("dm", user_id, message)

    async def answer(self, address: dict[str, str], reply: Any) -> None:
        pass


def _bot_process(url: str, log: str, name: str, start: str, end: str, step: Any) -> None:
    logging.basicConfig(filename=f"{log}.{name}.log", level=logging.INFO)

    async def main() -> None:
        db = Database(url)
        clock = ManualClock(datetime.fromisoformat(start))
        source = ArxivSource("http://127.0.0.1:9/unused", delay_seconds=0)
        core = Yomikai(db, Services(PaperCatalog(db, source), GroupDefaults()), clock)
        core.connect(FileAdapter(log, clock, name))
        await run_until(
            core, clock, datetime.fromisoformat(end), lambda: asyncio.to_thread(step.wait, 60)
        )
        db.dispose()

    asyncio.run(main())


async def test_two_processes_on_one_sqlite_file_post_each_message_once(
    chat: FakeChat, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    await setup_monday(chat, clock)
    for user in ("alice", "bob"):
        await chat.say(user, "/yomikai join")
    await chat.say("bob", "/nominate 2204.00598")
    log = tmp_path / "posts.jsonl"
    start, end = clock.now().isoformat(), datetime(2026, 12, 10, tzinfo=UTC).isoformat()
    context = multiprocessing.get_context("spawn")
    step = context.Barrier(2)
    bots = [
        context.Process(target=_bot_process, args=(database_url, str(log), name, start, end, step))
        for name in ("bot-a", "bot-b")
    ]
    for bot in bots:
        bot.start()
    for bot in bots:
        await asyncio.to_thread(bot.join, 120)
        assert bot.exitcode == 0
    logs = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.log"))
    assert "Traceback" not in logs, logs
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    # Sorted by simulated time: one process may post Wednesday's reminder (claimed first) after
    # the other, running ahead, has already posted Wednesday's meeting.
    posts = sorted(
        ((p["at"], p["kind"], p["target"], p["what"]) for p in lines),
        key=lambda post: (post[0], post[1] == "dm", post[2]),
    )
    assert len(posts) == len(set(posts)), "a message was sent twice"
    assert [(p[1], p[3]) for p in posts] == [
        ("post", "CandidateList"),  # Monday open
        ("post", "Agenda"),  # Tuesday close
        ("update", "CandidateList"),  # and the ballot, closed
        ("post", "Agenda"),  # reminder two days before
        ("dm", "Reminder"),
        ("dm", "Reminder"),
        ("post", "Agenda"),  # reminder one hour before
        ("dm", "Reminder"),
        ("dm", "Reminder"),
        ("post", "Notice"),  # the meeting: no card finished
        ("post", "DeckFile"),  # and the session's slides
    ]


async def test_a_poll_with_every_source_down_says_so(
    chat: FakeChat, fake_hf: FakeHuggingFace
) -> None:
    fake_hf.mode = "500"
    hf = HuggingFaceSource(fake_hf.url, timeout=0.5, retries=0)
    chat.core.services = replace(chat.core.services, trending=TrendingChain([hf]))
    await chat.say("alice", "/yomikai setup")
    said = await chat.text("alice", "/yomikai poll")
    assert "No trending source answered" in said
    await hf.aclose()
