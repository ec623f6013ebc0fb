"""PostgreSQL restarted in the middle of a burst of clicks: nothing acknowledged is lost.

The test starts a PostgreSQL cluster of its own (restarting the suite's shared one would cut the
other tests' connections), runs the real Slack adapter on it, and stops the server for about
three seconds while members keep clicking. Every click gets its 200 within Slack's 3 s; each one
is then either counted or its voter is told privately that it did not go through.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from adapters.slack import build
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member, Vote
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import (
    SlackSide,
    ballot_posted,
    buttons,
    ephemerals_to,
    posted,
    user_id,
)
from tests.slack.slack_side import slack_settings as settings_for


class Cluster:
    """A throwaway PostgreSQL server that the test can stop and start again."""

    def __init__(self, root: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        found = bins[-1] if bins else shutil.which("pg_ctl")
        if found is None:
            if os.environ.get("CI") == "true":
                raise AssertionError("PostgreSQL is required in CI")
            pytest.skip("no PostgreSQL server here (make test installs it)")
        self.bindir = Path(found).parent
        self.root = root
        self.data = root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.owner: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            subprocess.run(["id", "postgres"], check=False, capture_output=True)
            self.owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [*self.owner, str(self.bindir / tool), *args]
        subprocess.run(command, check=check, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self, mode: str = "fast", *, check: bool = True) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=check)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: the postgres user must be able to reach its folder.
    root = Path(tempfile.mkdtemp(prefix="yomikai-pg-restart-"))
    try:
        server = Cluster(root)
        server.start()
        yield server
        server.stop(mode="immediate", check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def on_cluster(
    cluster: Cluster, fake_slack: FakeSlack, arxiv: ArxivSource
) -> AsyncIterator[SlackSide]:
    import aiohttp

    db = Database(cluster.url)
    upgrade(db.engine)
    core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), ManualClock())
    adapter = build(settings_for(fake_slack), core, host="127.0.0.1", port=0, redraw_interval=0.1)
    await adapter.start()
    core.connect(adapter)
    await core.start()
    async with aiohttp.ClientSession() as http:
        yield SlackSide(adapter, fake_slack, http)
    await adapter.stop()
    await core.stop()
    db.dispose()


async def test_postgres_restarting_during_a_burst_loses_no_acknowledged_click(
    on_cluster: SlackSide, cluster: Cluster
) -> None:
    slack = on_cluster
    await posted(slack, "alice", "/yomikai setup")
    await posted(slack, "alice", "/nominate 2204.06974")
    await slack.command("alice", "/yomikai open")
    ballot = await ballot_posted(slack.fake)
    action, ts = buttons(ballot)[0], str(ballot.result["ts"])
    voters = [f"voter{n:02d}" for n in range(30)]

    async def click(voter: str) -> None:
        status, _, took = await slack.click(voter, action, ts)
        assert status == 200 and took < 3.0, (status, took)

    await asyncio.gather(*(click(v) for v in voters[:10]))
    await asyncio.to_thread(cluster.stop)  # down: clicks keep coming
    during = asyncio.gather(*(click(v) for v in voters[10:20]))
    await asyncio.sleep(3)
    await asyncio.to_thread(cluster.start)
    await during
    await asyncio.gather(*(click(v) for v in voters[20:]))
    await slack.adapter.settle()

    core = slack.adapter.core

    def counted() -> set[str]:
        with core.db.session() as session:
            rows = session.exec(select(Member.user_id).join(Vote, Vote.member_id == Member.id))
            return set(rows.all())

    def outcome() -> dict[str, str]:
        stored = counted()
        seen = {}
        for voter in voters:
            told = " ".join(c.args.get("text") or "" for c in ephemerals_to(slack.fake, voter))
            if user_id(voter) in stored:
                seen[voter] = "counted"
            elif "did not go through" in told:
                seen[voter] = "told"
        return seen

    await slack.fake.wait_for(lambda: len(outcome()) == len(voters), timeout=60, what="outcomes")
    result = outcome()
    assert all(result[v] == "counted" for v in voters[:10] + voters[20:]), result
    assert set(result.values()) <= {"counted", "told"}
