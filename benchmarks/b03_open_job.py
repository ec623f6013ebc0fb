"""Benchmark 3: the Monday ``open`` job for 1, 10, 100 and 1,000 groups, against bare posting.

Every group opens voting at the default Monday 10:00 (Asia/Tokyo here), so at 10:00
APScheduler fires one ``open`` job per group, all at once. The groups, their organizers,
papers, nominations and trending pools are written straight into a fresh SQLite file (setup,
not measured; the other jobs are off, so only ``open`` is installed). Measured is the real
thing: the real ``Scheduler`` installs each group's jobs from the database, APScheduler fires
them, and each runs ``JobRunner.run_scheduled`` (the run claimed, the round opened and its
ballot queued and leased in the outbox, in one transaction; then sent by ``Delivery`` through
the real Slack adapter's ``chat.postMessage`` to the tests' fake Slack on 127.0.0.1, and
recorded sent) until every run is over. One more group opens first, unmeasured, so
connections and compiled statements are warm, as in a bot that has been running all week.

The baseline, in the same run, three times after each run of the bot (A B B B A B B B), is
the floor of that work: as many bare ``chat.postMessage`` calls, all at once, through a plain
slack_sdk ``AsyncWebClient`` (one kept-alive HTTP session, as the adapter has) to a fake Slack
of its own, carrying the same ballot blocks. The ratio is what the bot adds to posting: its
database work, rendering and delivery bookkeeping. The process's CPU time is shown beside the
wall time (steadier when the machine is shared), and the slope (least squares of time against
groups) says whether a group costs as much among 1,000 as among ten.

Checked: exactly one ballot per group, in that group's channel, with all its buttons; one
round and one job run per group; every outbox row sent; no job raised.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.job import Job
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert
from sqlmodel import col, func, select

from adapters.slack import SlackAdapter, build
from benchmarks.processes import serve
from benchmarks.report import Figure, Result, check, ms
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.scheduler import Scheduler
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Group, JobRun, Member, Nomination, OutboxPost, Paper, PoolEntry, Round
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import Call, FakeSlack
from tests.slack.slack_side import buttons, slack_settings

ZONE = ZoneInfo("Asia/Tokyo")
OPENS = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)
"""A Monday 10:00: every group's default ``open``."""
SIZES = (1, 10, 100, 1000)
RUNS = {1: 5, 10: 5, 100: 3, 1000: 2}
"""Runs per size (bot and baseline alternated; the median counts)."""
BARE_RUNS = 3
"""Baseline runs after each run of the bot."""
PAPERS = 8
POOLED = 5
"""Trending papers in each group's pool; one of them is also nominated by its organizer."""
LIMIT = 1.5
DEADLINE = 120.0
"""Seconds the job may take for 1,000 groups before the benchmark gives up."""


def channel(n: int) -> str:
    return f"C{n:08d}"


def populate(db: Database, groups: int) -> None:
    """``groups`` groups, each with an organizer, a trending pool and one nomination."""
    now = OPENS.astimezone(UTC) - timedelta(days=1)
    quiet = {"poll": "off", "close": "off", "remind": "off", "meet": "off"}  # only ``open``
    with db.session() as session:
        session.execute(
            insert(Paper),
            [
                {
                    "arxiv_id": f"2401.{10000 + p}",
                    "version": 1,
                    "title": f"A paper on attention, number {p}",
                    "authors": ["Ada Lovelace", "Alan Turing"],
                    "affiliations": [],
                    "abstract": "We study things. " * 20,
                    "categories": ["cs.LG"],
                    "primary_category": "cs.LG",
                    "fetched_at": now,
                }
                for p in range(PAPERS)
            ],
        )
        papers = [p or 0 for p in session.exec(select(Paper.id)).all()]
        session.execute(
            insert(Group),
            [
                {
                    "platform": "slack",
                    "channel_id": channel(n),
                    "name": f"group {n}",
                    "timezone": "Asia/Tokyo",
                    "schedule": quiet,
                    "calendar_token": f"token{n}",
                    "created_at": now,
                }
                for n in range(groups)
            ],
        )
        ids = [g or 0 for g in session.exec(select(Group.id).order_by(col(Group.id))).all()]
        session.execute(
            insert(Member),
            [
                {
                    "group_id": g,
                    "user_id": f"U{g:08d}",
                    "display_name": f"organizer {g}",
                    "is_organizer": True,
                    "created_at": now,
                }
                for g in ids
            ],
        )
        members = dict(session.exec(select(Member.group_id, Member.id)).all())
        session.execute(
            insert(PoolEntry),
            [
                {
                    "group_id": g,
                    "paper_id": papers[(g + k) % PAPERS],
                    "score": float(10 - k),
                    "source": "huggingface",
                    "extras": {"upvotes": 10 - k},
                    "added_at": now,
                }
                for g in ids
                for k in range(POOLED)
            ],
        )
        session.execute(
            insert(Nomination),
            [
                {
                    "group_id": g,
                    "paper_id": papers[g % PAPERS],
                    "member_id": members[g],
                    "reason": "",
                    "created_at": now,
                }
                for g in ids
            ],
        )


@dataclass
class Bot:
    db: Database
    core: Yomikai
    adapter: SlackAdapter
    scheduler: Scheduler
    clock: ManualClock
    arxiv: ArxivSource

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.core.stop()
        await self.adapter.stop()
        await self.arxiv.aclose()
        self.db.dispose()


async def start_bot(folder: Path, fake: FakeSlack, groups: int) -> Bot:
    db = Database(f"sqlite:///{folder / f'open{groups}.db'}")
    upgrade(db.engine)
    populate(db, groups)
    clock = ManualClock(OPENS.astimezone(UTC) - timedelta(minutes=5))
    arxiv = ArxivSource("http://127.0.0.1:9/api/query", delay_seconds=0)  # never asked
    core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), clock)
    adapter = build(slack_settings(fake), core, host="127.0.0.1", port=0)
    await adapter.start()
    core.connect(adapter)
    await core.start()
    scheduler = Scheduler(core)
    scheduler.aps.start()  # as ``Scheduler.start`` does, without its catch-up (nothing is due
    await scheduler.reconcile()  # at 09:55): every group's jobs installed from the database
    return Bot(db, core, adapter, scheduler, clock, arxiv)


@dataclass(frozen=True)
class Took:
    """One measured stretch: wall-clock seconds, and this process's CPU seconds (every
    thread's, the fake Slack's too): the CPU figure is steadier on a shared machine."""

    wall: float
    cpu: float


class Stopwatch:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> float:
        return time.perf_counter() - self.wall

    def took(self) -> Took:
        return Took(time.perf_counter() - self.wall, time.process_time() - self.cpu)


def ballots(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.to("chat.postMessage") if c.args.get("channel", "").startswith("C")]


async def fire(bot: Bot, jobs: list[Job]) -> Took:
    """Make ``jobs`` due now, as 10:00 coming does; seconds until every run is over (its
    ballot posted and recorded sent: ``run_scheduled`` returns after its flush)."""
    done: list[JobExecutionEvent] = []
    ids = {job.id for job in jobs}

    def listener(event: JobExecutionEvent) -> None:
        if event.job_id in ids:  # (not the scheduler's own reconcile)
            done.append(event)

    bot.scheduler.aps.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    watch = Stopwatch()
    fired = datetime.now(UTC)
    for job in jobs:  # APScheduler runs each due job as a task of its own, all at once
        job.modify(next_run_time=fired)
    while len(done) < len(jobs):
        check(watch.elapsed() < DEADLINE, f"{len(done)} of {len(jobs)} ran")
        await asyncio.sleep(0.002)
    took = watch.took()
    bot.scheduler.aps.remove_listener(listener)
    check(all(event.exception is None for event in done), "an open job raised")
    return took


async def open_job(folder: Path, groups: int) -> tuple[Took, dict[str, Any]]:
    """Every group's ``open`` at 10:00, fired by APScheduler; seconds until all are out.

    One more group opens first, unmeasured: the bot's connections and compiled statements
    are warm, as in a bot that has been running all week."""
    fake = FakeSlack()
    runner, fake.base = await serve(fake.app())
    bot = await start_bot(folder, fake, groups + 1)
    try:
        jobs = sorted(
            (job for job in bot.scheduler.aps.get_jobs() if ":open:" in job.id),
            key=lambda job: int(job.id.split(":")[0]),
        )
        check(len(jobs) == groups + 1, f"{len(jobs)} open jobs installed for {groups + 1} groups")
        bot.clock.current = OPENS.astimezone(UTC) + timedelta(seconds=1)
        await fire(bot, jobs[-1:])
        took = await fire(bot, jobs[:-1])
        verify(bot.db, fake, groups + 1)
        sample = ballots(fake)[0].args
    finally:
        await bot.close()
        await runner.cleanup()
    return took, sample


def verify(db: Database, fake: FakeSlack, groups: int) -> None:
    posted = ballots(fake)
    where = sorted(str(c.args.get("channel")) for c in posted)
    check(len(posted) == groups, f"{len(posted)} ballots posted for {groups} groups")
    check(where == [channel(n) for n in range(groups)], "not one ballot per group channel")
    check(all(len(buttons(c)) == POOLED for c in posted), "a ballot without its 5 buttons")
    with db.session(read_only=True) as session:
        rounds = session.exec(select(func.count()).select_from(Round)).one()
        runs = session.exec(select(func.count()).select_from(JobRun)).one()
        unsent = session.exec(
            select(func.count()).select_from(OutboxPost).where(OutboxPost.state != "sent")
        ).one()
    check(rounds == groups and runs == groups, f"{rounds} rounds, {runs} runs for {groups}")
    check(unsent == 0, f"{unsent} outbox rows not sent")


async def bare(groups: int, sample: dict[str, Any]) -> Took:
    """The floor: ``groups`` bare ``chat.postMessage`` calls at once, the same ballot blocks."""
    fake = FakeSlack()
    runner, fake.base = await serve(fake.app())
    try:
        async with aiohttp.ClientSession() as http:
            client = AsyncWebClient(token="xoxb-bare", base_url=fake.api_url, session=http)
            await client.auth_test()  # (the adapter checks its token at start, too)
            watch = Stopwatch()
            await asyncio.gather(
                *(
                    client.chat_postMessage(
                        channel=channel(n),
                        text=sample.get("text"),
                        blocks=sample.get("blocks"),
                        unfurl_links=False,
                        unfurl_media=False,
                        metadata=sample.get("metadata"),
                    )
                    for n in range(groups)
                )
            )
            took = watch.took()
        check(len(ballots(fake)) == groups, "the baseline's posts did not all arrive")
    finally:
        await runner.cleanup()
    return took


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares seconds per group of (groups, seconds)."""
    xs, ys = [float(x) for x, _ in points], [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def median(runs: list[Took]) -> Took:
    return Took(statistics.median(t.wall for t in runs), statistics.median(t.cpu for t in runs))


async def run() -> Result:
    result = Result(3, "The open job: every group's ballot posted at once, 1 to 1,000 groups")
    medians: dict[int, tuple[Took, Took]] = {}
    with tempfile.TemporaryDirectory() as name:
        for groups in SIZES:
            ours: list[Took] = []
            floor: list[Took] = []
            for n in range(RUNS[groups]):  # A B A B: both see the same machine
                folder = Path(name) / f"{groups}-{n}"
                folder.mkdir()
                took, sample = await open_job(folder, groups)
                ours.append(took)
                for _ in range(BARE_RUNS):  # (cheap, and the noisier: a median of three)
                    floor.append(await bare(groups, sample))
            medians[groups] = (median(ours), median(floor))
    largest = SIZES[-1]
    for groups, (mine, base) in medians.items():
        last = groups == largest
        result.add(
            Figure(
                f"open, {groups:,} group{'s' if groups > 1 else ''}: all ballots out",
                ms(mine.wall),
                ms(base.wall),
                mine.wall / base.wall,
                LIMIT if last else None,
                f"≤ {LIMIT}" if last else "",
                runs=RUNS[groups],
            )
        )
    mine, base = medians[largest]
    result.add(
        Figure(
            f"open, {largest:,} groups: CPU (all threads)",
            ms(mine.cpu),
            ms(base.cpu),
            mine.cpu / base.cpu,
            runs=RUNS[largest],
        )
    )
    fit = slope([(g, mine.wall) for g, (mine, _) in medians.items()])
    bare_fit = slope([(g, base.wall) for g, (_, base) in medians.items()])
    result.add(
        Figure(
            "time per group (least-squares slope)",
            ms(fit),
            ms(bare_fit),
            fit / bare_fit,
            runs=len(SIZES),
        )
    )
    per_group = ", ".join(f"{g:,}: {ms(mine.wall / g)}" for g, (mine, _) in medians.items())
    bare_per = ", ".join(f"{g:,}: {ms(base.wall / g)}" for g, (_, base) in medians.items())
    result.note(f"open job per group at each size: {per_group} (bare posting {bare_per})")
    return result


if __name__ == "__main__":
    for figure in asyncio.run(run()).figures:
        print(figure)
