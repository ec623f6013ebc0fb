"""Benchmark 6: read-only commands write nothing to the database.

``/summary``, ``/candidates``, ``/presenters`` and ``/yomikai status`` only show what is
stored. Each runs 50 times, by members the group knows (an organizer, presenters, a member who
left the rotation) and by members the bot has never seen (a new one each time), through the
real core (``Yomikai.handle``) and through the real Slack adapter in HTTP mode (signed
requests from ``SlackSide``, answered through their ``response_url`` by the fake Slack), on a
SQLite file with a finished session and an open round.

Counted, three ways, for every run:

- every INSERT, UPDATE and DELETE statement on each of the ``Database``'s three engines
  (``engine``, ``quick_engine``, ``read_engine``: a SQLAlchemy ``before_cursor_execute``
  listener), by table, and the write locks taken (``BEGIN IMMEDIATE``);
- the rows SQLite itself says those statements changed (the connection's ``total_changes``,
  triggers included);
- whether the file changed at all: ``PRAGMA data_version`` read from a connection of the
  benchmark's own after every core command (it moves whenever another connection committed
  a change).

On the Slack path every request is first recorded in the inbox (``received_request``) before
it is acknowledged, and marked answered after (issue 12: nothing acknowledged is lost). Those
writes are the adapter's promise, not the command's, and are reported on their own line; the
command's own writes must still be zero. The baseline shows the counter works: one writing
command (a vote, through each path) must be seen writing, else the benchmark fails.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event

from adapters.slack import SlackAdapter, build
from benchmarks.report import Figure, Result, check
from bot.context import Invocation, Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.messages import Problem, Reply
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import CHANNEL, SlackSide, slack_settings, user_id

RUNS = 50
"""Runs of each read-only command on each path."""
COMMANDS = ("/summary 1", "/candidates", "/presenters", "/yomikai status")
KNOWN = ("alice", "bob", "carol")
"""alice organizes and presents, bob presents, carol left the rotation."""
INBOX = "received_request"
WRITE = re.compile(
    r"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+\"?(\w+)",
    re.IGNORECASE,
)


@dataclass
class Writes:
    """What one stretch wrote: statements by table, rows SQLite changed, write locks."""

    statements: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(verb, table) → statements."""
    rows: Counter[str] = field(default_factory=Counter)
    """Rows SQLite changed (``total_changes`` over each transaction), by ``INBOX`` for a
    transaction that wrote only to the inbox, else ``"command"``."""
    locks: int = 0

    def total(self, *, inbox: bool | None = None) -> int:
        """Write statements (``inbox``: only the inbox's, or only the others')."""
        return sum(
            n
            for (_, table), n in self.statements.items()
            if inbox is None or (table == INBOX) == inbox
        )

    def changed(self, *, inbox: bool | None = None) -> int:
        return sum(n for kind, n in self.rows.items() if inbox is None or (kind == INBOX) == inbox)

    def describe(self) -> str:
        done = sorted(self.statements.items(), key=lambda item: (item[0][1], item[0][0]))
        return ", ".join(f"{n} {verb} {table}" for (verb, table), n in done) or "none"


class WriteCounter:
    """Listens to every engine of ``db``; ``counting()`` collects one stretch's writes."""

    def __init__(self, db: Database) -> None:
        self._lock = threading.Lock()
        self._now: Writes | None = None
        engines = {id(e): e for e in (db.engine, db.quick_engine, db.read_engine)}
        for engine in engines.values():
            event.listen(engine, "begin", self._begin)
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._end)
            event.listen(engine, "rollback", self._end)

    @contextmanager
    def counting(self) -> Iterator[Writes]:
        writes = Writes()
        with self._lock:
            self._now = writes
        try:
            yield writes
        finally:
            with self._lock:
                self._now = None

    @staticmethod
    def _changes(conn: Any) -> int:
        return int(conn.connection.dbapi_connection.total_changes)

    def _begin(self, conn: Any) -> None:
        conn.info["changes_at_begin"], conn.info["tables"] = self._changes(conn), set()

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = WRITE.match(statement)
        if found is not None:
            conn.info.setdefault("tables", set()).add(found.group(2).lower())
        with self._lock:
            if self._now is None:
                return
            if statement.lstrip().upper().startswith("BEGIN IMMEDIATE"):
                self._now.locks += 1
            if found is not None:
                verb = found.group(1).split()[0].upper()
                self._now.statements[verb, found.group(2).lower()] += 1

    def _end(self, conn: Any) -> None:
        changed = self._changes(conn) - conn.info.pop("changes_at_begin", self._changes(conn))
        tables = conn.info.pop("tables", set())
        with self._lock:
            if self._now is not None and changed:
                self._now.rows[INBOX if tables <= {INBOX} else "command"] += changed


class FileWatch:
    """``PRAGMA data_version`` from a connection of our own: has anyone changed the file?"""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        self._last = self._version()

    def _version(self) -> int:
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        now = self._version()
        moved, self._last = now != self._last, now
        return moved

    def close(self) -> None:
        self._connection.close()


def member(n: int) -> str:
    """Who runs the ``n``th command: the known members in turn, and every fourth time a
    member the bot has never seen (a new one each time)."""
    return KNOWN[n % 4] if n % 4 < len(KNOWN) else f"newcomer{n}"


def invocation(name: str, line: str) -> Invocation:
    command, _, text = line.removeprefix("/").partition(" ")
    return Invocation("slack", CHANNEL, user_id(name), name, command, text)


async def prepare(core: Yomikai) -> None:
    """A group with a finished session (two slots, a card written) and a round open."""
    lines = [
        ("alice", "/yomikai setup papers 2"),
        ("alice", "/yomikai join"),
        ("bob", "/yomikai join"),
        ("carol", "/yomikai leave"),
        ("alice", "/nominate 2204.06974"),
        ("bob", "/nominate 2204.00598"),
        ("alice", "/yomikai open"),
        ("alice", "/vote 1"),
        ("bob", "/vote 2"),
        ("alice", "/yomikai close"),
        ("alice", "/card 1 purpose: why backdoors persist"),
        ("alice", "/nominate 2203.14465"),
        ("carol", "/nominate 2203.15556"),
        ("alice", "/yomikai open"),
    ]
    for name, line in lines:
        reply = await core.handle(invocation(name, line))
        problems = [m for m in reply.private if isinstance(m, Problem)]
        check(not problems, f"setup: {line} by {name} failed: {problems}")


def answered(reply: Reply, line: str) -> None:
    check(bool(reply.private), f"{line} answered nothing")
    check(
        not any(isinstance(m, Problem) for m in reply.private),
        f"{line} was refused: {reply.private}",
    )


@dataclass
class PathWrites:
    """One path's figures: the read-only commands' writes, the file watch, the vote's."""

    reads: Writes
    vote: Writes
    file_changes: int | None = None
    vote_changed_file: bool | None = None
    commands: int = 0


async def through_core(core: Yomikai, counter: WriteCounter, watch: FileWatch) -> PathWrites:
    moved = 0
    with counter.counting() as reads:
        for line in COMMANDS:
            for n in range(RUNS):
                watch.changed()
                reply = await core.handle(invocation(member(n), line))
                answered(reply, line)
                moved += watch.changed()
    with counter.counting() as vote:
        watch.changed()
        answered(await core.handle(invocation("bob", "/vote 1")), "/vote 1")
        vote_moved = watch.changed()
    return PathWrites(reads, vote, moved, vote_moved, len(COMMANDS) * RUNS)


async def through_slack(
    adapter: SlackAdapter, fake: FakeSlack, counter: WriteCounter, http: aiohttp.ClientSession
) -> PathWrites:
    side = SlackSide(SimpleNamespace(socket_mode=False, port=adapter.port), fake, http)  # type: ignore[arg-type]

    async def send(name: str, line: str) -> None:
        before = len(fake.to("response_url"))
        status, _, _ = await side.command(name, line)
        check(status == 200, f"{line} was answered HTTP {status}")
        await fake.wait_for(lambda: len(fake.to("response_url")) > before, what=line)
        await adapter.settle()
        answer = fake.to("response_url")[-1].text()
        check(":warning:" not in answer, f"{line} by {name} was refused: {answer[:200]}")

    with counter.counting() as reads:
        for line in COMMANDS:
            for n in range(RUNS):
                await send(member(n), line)
    with counter.counting() as vote:
        await send("carol", "/vote 2")
    return PathWrites(reads, vote, commands=len(COMMANDS) * RUNS)


async def run() -> Result:
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    with tempfile.TemporaryDirectory() as folder, serve_fake_arxiv() as arxiv_fake:
        path = Path(folder) / "bench.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db.engine)
        arxiv = ArxivSource(arxiv_fake.url, delay_seconds=0)
        core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), ManualClock())
        adapter = build(slack_settings(fake), core, host="127.0.0.1", port=0)
        await adapter.start()
        core.connect(adapter)
        counter = WriteCounter(db)
        watch = FileWatch(path)
        try:
            await prepare(core)
            await adapter.settle()
            core_path = await through_core(core, counter, watch)
            async with aiohttp.ClientSession() as http:
                slack_path = await through_slack(adapter, fake, counter, http)
        finally:
            watch.close()
            await adapter.stop()
            await arxiv.aclose()
            db.dispose()
    await runner.cleanup()
    return report(core_path, slack_path)


def report(core: PathWrites, slack: PathWrites) -> Result:
    check(core.vote.total() > 0 and core.vote.changed() > 0, "the core's vote was not counted")
    check(bool(core.vote_changed_file), "the vote did not change the file (data_version)")
    check(
        slack.vote.total(inbox=False) > 0 and slack.vote.changed(inbox=False) > 0,
        "the Slack vote's writes were not counted",
    )
    result = Result(
        6, "Read-only commands write nothing (/summary, /candidates, /presenters, status)"
    )
    result.add(
        Figure(
            "core: write statements",
            str(core.reads.total()),
            f"vote: {core.vote.total()}",
            target="0",
            runs=core.commands,
            met=core.reads.total() == 0,
        )
    )
    result.add(
        Figure(
            "core: rows changed / file changed after",
            f"{core.reads.changed()} / {core.file_changes} of {core.commands}",
            f"vote: {core.vote.changed()} / {int(bool(core.vote_changed_file))}",
            target="0 / 0",
            runs=core.commands,
            met=core.reads.changed() == 0 and core.file_changes == 0,
        )
    )
    result.add(
        Figure(
            "core: write locks (BEGIN IMMEDIATE)",
            str(core.reads.locks),
            f"vote: {core.vote.locks}",
            target="0",
            runs=core.commands,
            met=core.reads.locks == 0,
        )
    )
    own = slack.reads.total(inbox=False)
    result.add(
        Figure(
            "Slack HTTP: the commands' own writes",
            f"{own} ({slack.reads.changed(inbox=False)} rows)",
            f"vote: {slack.vote.total(inbox=False)}",
            target="0",
            runs=slack.commands,
            met=own == 0,
        )
    )
    inbox = slack.reads.total(inbox=True)
    result.add(
        Figure(
            "Slack HTTP: inbox writes (issue 12)",
            f"{inbox} ({inbox / slack.commands:.1f} a request)",
            f"vote: {slack.vote.total(inbox=True)}",
            target="reported",
            runs=slack.commands,
        )
    )
    result.note(
        f"{len(COMMANDS)} read-only commands × {RUNS} runs a path ({', '.join(COMMANDS)}),"
        " one in four by a member the bot had never seen"
    )
    result.note(f"core, read-only: {core.reads.describe()}; the vote: {core.vote.describe()}")
    result.note(f"Slack, read-only: {slack.reads.describe()}; the vote: {slack.vote.describe()}")
    result.note(
        "the inbox writes are Slack's path, not the commands': each request's INSERT before its"
        " ack and its UPDATE to done once the answer is made (a crash before that replays it), and"
        " one DELETE of keys older than a day, made once an hour by the recorder"
    )
    return result


if __name__ == "__main__":
    outcome = asyncio.run(run())
    for line in outcome.figures:
        print(line)
    print(*outcome.notes, sep="\n")
