"""Idle memory of ``yomikai run`` serving Slack (HTTP) and Discord with its scheduler.

The real ``yomikai run`` (``.venv/bin/yomikai``) starts as a subprocess on a fresh SQLite file,
with Slack in HTTP mode against the tests' fake Slack and Discord against the fake Discord (REST
and gateway), both served from this process on 127.0.0.1; every paper site points at a closed
port, so nothing leaves the machine. Once it is up (Slack's token checked, Discord's slash
commands synced and its gateway session identified, the scheduler started: the "Yomikai is
running on Slack and Discord" line comes after all of that) and has settled, its resident set
(``VmRSS`` in ``/proc/<pid>/status``) is read a few times. The file is migrated beforehand (as
``yomikai db upgrade`` does), as every start but the first finds it; one first start on an
empty file, which runs the migrations itself, is reported beside it.

The baseline is the floor any such bot pays: a Python process that imports what Yomikai cannot
do without (slack-bolt's async app, discord.py, APScheduler's asyncio scheduler, SQLModel and
arxiv, as the bot imports them) and then idles. The two alternate (A B A B A B, each started
afresh) and the medians are compared; the ratio is the bot's own weight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from aiohttp import web

from benchmarks.bot_process import Running, offline_env, rss_kib, yomikai
from benchmarks.report import Figure, Result, check
from storage.db import Database
from storage.migrate import upgrade
from tests.fakes.discord_api import GUILD_ID, FakeDiscord
from tests.fakes.slack_api import FakeSlack

ROUNDS = 3
SETTLE = 2.0
"""Seconds a process idles after it is up before its memory is read."""
READS = 3
READ_GAP = 0.3
UP = "Yomikai is running on Slack and Discord"
READY = "baseline ready"
BASELINE = (
    "from slack_bolt.async_app import AsyncApp\n"
    "import discord\n"
    "from apscheduler.schedulers.asyncio import AsyncIOScheduler\n"
    "import sqlmodel\n"
    "import arxiv\n"
    "import time\n"
    f"print({READY!r}, flush=True)\n"
    "time.sleep(600)\n"
)
SYNC = r"/applications/\d+/guilds/\d+/commands"


def migrated(url: str) -> None:
    """The database as every start but the first finds it (what ``yomikai db upgrade`` does)."""
    db = Database(url)
    try:
        upgrade(db.engine)
    finally:
        db.dispose()


def bot_env(folder: Path, slack: FakeSlack, discord_fake: FakeDiscord) -> dict[str, str]:
    return offline_env(
        f"sqlite:///{folder / 'yomikai.db'}",
        slack.api_url,
        DISCORD_BOT_TOKEN="fake-bot-token",
        DISCORD_API_URL=discord_fake.url,
        DISCORD_GUILD_ID=str(GUILD_ID),
    )


async def measured(command: list[str], env: dict[str, str], cwd: Path, up: str) -> tuple[int, int]:
    """Start ``command``, wait for ``up``, idle, read its RSS ``READS`` times, stop it:
    (the median RSS in kB, the exit code)."""
    running = await Running.start(command, env, cwd, up)
    try:
        await asyncio.sleep(SETTLE)
        reads = []
        for _ in range(READS):
            check(running.alive, "the process ended while idle:\n" + running.said())
            reads.append(rss_kib(running.pid))
            await asyncio.sleep(READ_GAP)
    finally:
        code = await running.stop()
    return int(statistics.median(reads)), code


async def bot_run(n: int, slack: FakeSlack, discord_fake: FakeDiscord, *, first_start: bool) -> int:
    """One ``yomikai run`` on a new SQLite file (left empty for a first start, else migrated
    beforehand); its idle RSS (kB), once it has shown it served both platforms."""
    with tempfile.TemporaryDirectory(prefix="yomikai-bench-") as name:
        folder = Path(name)
        env = bot_env(folder, slack, discord_fake)
        if not first_start:
            await asyncio.to_thread(migrated, env["YOMIKAI_DATABASE_URL"])
        identified, checked = len(discord_fake.identified), len(slack.to("auth.test"))
        synced = len(discord_fake.calls_to("PUT", SYNC))
        rss, code = await measured(yomikai("run"), env, folder, UP)
        what = f"run {n + 1}{' (first start)' if first_start else ''}"
        check(code == 0, f"{what}: yomikai run ended with {code} after SIGTERM")
        check(len(slack.to("auth.test")) > checked, f"{what}: Slack's token was not checked")
        check(
            len(discord_fake.identified) > identified,
            f"{what}: no Discord gateway session was identified",
        )
        check(
            len(discord_fake.calls_to("PUT", SYNC)) > synced,
            f"{what}: Discord's slash commands were not synced",
        )
        check(bool(revision(folder / "yomikai.db")), f"{what}: the database was not migrated")
        return rss


async def baseline_run() -> int:
    with tempfile.TemporaryDirectory(prefix="yomikai-bench-") as name:
        rss, _ = await measured(
            [sys.executable, "-c", BASELINE], dict(os.environ), Path(name), READY
        )
        return rss


def revision(path: Path) -> str | None:
    """The schema revision a SQLite file is at (None: not migrated)."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return str(row[0]) if row else None


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


async def run() -> Result:
    result = Result(8, "idle memory of yomikai run (Slack HTTP, Discord, scheduler)")
    slack = FakeSlack()
    runner = web.AppRunner(slack.app(), access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    slack.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    discord_fake = FakeDiscord()
    await discord_fake.start()
    bot: list[int] = []
    floor: list[int] = []
    first: list[int] = []
    try:
        for n in range(ROUNDS):  # alternated: A B A B A B
            bot.append(await bot_run(n, slack, discord_fake, first_start=False))
            floor.append(await baseline_run())
        first.append(await bot_run(ROUNDS, slack, discord_fake, first_start=True))
    finally:
        await discord_fake.close()
        await runner.cleanup()
    theirs = statistics.median(floor)
    for what, values, limit in (
        ("idle RSS of yomikai run (median)", bot, 1.3),
        ("  the same, first start (migrates an empty file)", first, None),
    ):
        mine = statistics.median(values)
        result.add(
            Figure(
                what,
                mib(mine),
                mib(theirs),
                ratio=mine / theirs,
                limit=limit,
                target="≤ 1.3" if limit else "",
                runs=len(values),
            )
        )
    result.note(
        "RSS per round, bot / baseline (MiB): "
        + ", ".join(f"{b / 1024:.1f}/{f / 1024:.1f}" for b, f in zip(bot, floor, strict=True))
    )
    return result
