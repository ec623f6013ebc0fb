"""Benchmark 7: sustained mixed load on PostgreSQL with 1, 2 and 4 replicas of ``yomikai run``.

Four real ``yomikai run`` processes (Slack in HTTP mode, each on its own port) share one fresh
PostgreSQL database behind the tests' fake Slack; nominations look papers up in the fake arXiv
(everything on 127.0.0.1). A load generator keeps ``USERS`` members busy at once: each signs
and sends a request as Slack would, waits until it is acknowledged and answered, then sends the
next. Three requests in five are vote clicks, one a ``/nominate``, one a ``/candidates`` (a
read). For ``PHASE_SECONDS`` the requests go round-robin to the first 1, 2 or 4 replicas (the
others idle); the phases alternate 1 2 4 1 2 4 1 2 4, each in its own channel with its own open
round, after an unmeasured warm-up over all four.

A command is completed when it was acknowledged (200, no "did not go through"), its answer came
(the vote's "counts", the candidate list; for a nomination its post in the channel) and its
effect is in the database at the end (the member's vote, the nomination). Errors are refusals
and wrong or missing answers; lost is what was acknowledged but is not stored (for a read:
never answered). The baseline is one replica; commands per second should grow with replicas.
Two cores carry PostgreSQL, the replicas and the load generator, so four replicas cannot do
twice the work of two: the notes say where the CPU went (per command, per party).

Needs ``YOMIKAI_TEST_POSTGRES_URL`` (``scripts/with-postgres.sh``); without it, skipped.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import resource
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp import web
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from benchmarks.bot_process import (
    Running,
    cpu_seconds,
    family_cpu_seconds,
    machine_busy,
    offline_env,
    parent_of,
    yomikai,
)
from benchmarks.report import Figure, Result, check, ms, spread
from bot.i18n import catalog, t
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Group, Member, Nomination, Paper, Vote
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.slack_api import Call, FakeSlack
from tests.slack.slack_side import SlackSide, buttons, user_id

REPLICAS = 4
SHAPES = (1, 2, 4) * 3
"""Replicas under load in each measured phase, alternated."""
PHASE_SECONDS = 4.0
WARMUP_SECONDS = 3.0
USERS = 24
"""Members with a request in flight at any time (each waits for its answer, then goes on)."""
ANSWER_TIMEOUT = 20.0
PAPERS = ("2204.06974", "2204.00598", "2203.14465", "2204.03458", "2203.15556", "2203.13131")
UP = "Yomikai is running on Slack"
NAME = re.compile(r"p\dw\d\du\d{3}")
"""A load member's name (9 characters: Slack user ids here keep the first nine)."""
REFUSED = t("en", "error.not_recorded")[:40]
"""The start of "That did not go through…": the request was not taken."""
FAILED = tuple(
    catalog("en")[f"error.{key}"].split("{")[0][:40] for key in ("internal", "kept", "given_up")
)
CANDIDATES = t("en", "render.candidates_title")
STEPS = ("vote", "vote", "nominate", "read", "vote")
"""What each member of the load does, then the next member takes its place."""


@dataclass
class Sent:
    """One request of the load and what became of it."""

    kind: str
    """``vote``, ``nominate`` or ``read``."""
    user: str
    replica: int
    target: str
    """The candidate id voted for, the paper nominated ("" for a read)."""
    sent: float = 0.0
    acked: bool = False
    ack_seconds: float = 0.0
    answered_at: float | None = None
    error: str = ""
    """What went wrong, in a word or three ("" when nothing did)."""
    said: str = ""


@dataclass(frozen=True)
class Usage:
    """CPU seconds spent so far, by whom, and PostgreSQL sessions opened (pool misses)."""

    generator: float
    replicas: float
    database: float
    """The PostgreSQL server, all its processes."""
    machine_busy: float
    machine_total: float
    """Everyone's, the other work on this machine included (all cores)."""
    sessions: int

    def __sub__(self, before: Usage) -> Usage:
        return Usage(
            self.generator - before.generator,
            self.replicas - before.replicas,
            self.database - before.database,
            self.machine_busy - before.machine_busy,
            self.machine_total - before.machine_total,
            self.sessions - before.sessions,
        )

    @property
    def machine(self) -> float:
        """How busy the machine was, 0..1 of all its cores."""
        return self.machine_busy / max(self.machine_total, 1e-9)


class Meter:
    """Reads ``Usage``: this process, the replicas, the PostgreSQL server, the machine."""

    def __init__(self, replicas: list[int], db: Database) -> None:
        self.replicas = replicas
        self.db = db
        with db.engine.connect() as connection:  # the postmaster: the parent of any backend
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        self.server = parent_of(int(backend))

    def _read(self) -> Usage:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        busy, total = machine_busy()
        return Usage(
            mine.ru_utime + mine.ru_stime,
            sum(cpu_seconds(pid) for pid in self.replicas),
            family_cpu_seconds(self.server),
            busy,
            total,
            self._sessions(),
        )

    async def read(self) -> Usage:
        return await asyncio.to_thread(self._read)

    def _sessions(self) -> int:
        """Sessions PostgreSQL opened on the database so far (``pg_stat_database``; its
        statistics lag by up to half a second, so a phase's count is about right)."""
        with self.db.engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            found = connection.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            ).scalar()
        return int(found or 0)


@dataclass
class Phase:
    number: int
    replicas: int
    channel: str
    round_id: int = 0
    action_ids: list[str] = field(default_factory=list)
    ballot_ts: str = ""
    requests: list[Sent] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    used: Usage | None = None
    """What the machine spent during the phase."""
    redraws: int = 0
    """``chat.update`` calls for the phase's ballot (each replica redraws after its clicks)."""

    @property
    def elapsed(self) -> float:
        return self.finished - self.started


class Answers:
    """Watches the fake Slack: which request's answer has come (by its response_url path, or
    for a nomination by its post in the channel, which names the member)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.hooks: dict[str, asyncio.Future[Call]] = {}
        self.posts: dict[tuple[str, str], asyncio.Future[Call]] = {}
        self._seen = 0

    def hook(self, path: str) -> asyncio.Future[Call]:
        return self.hooks.setdefault(path, asyncio.get_running_loop().create_future())

    def post(self, channel: str, name: str) -> asyncio.Future[Call]:
        return self.posts.setdefault((channel, name), asyncio.get_running_loop().create_future())

    async def watch(self) -> None:
        while True:
            calls = self.fake.calls
            for call in calls[self._seen :]:
                if call.method == "response_url":
                    self._resolve(self.hooks.pop(call.path, None), call)
                elif call.method == "chat.postMessage":
                    channel = str(call.args.get("channel"))
                    for name in NAME.findall(str(call.args.get("text", ""))):
                        self._resolve(self.posts.pop((channel, name), None), call)
            self._seen = len(calls)
            await asyncio.sleep(0.002)

    @staticmethod
    def _resolve(waiting: asyncio.Future[Call] | None, call: Call) -> None:
        if waiting is not None and not waiting.done():
            waiting.set_result(call)


class Load:
    """The load generator: Slack's side of every replica, and the answers it waits for."""

    def __init__(self, sides: list[SlackSide], fake: FakeSlack, answers: Answers) -> None:
        self.sides = sides
        self.fake = fake
        self.answers = answers

    async def command(self, sent: Sent, line: str, channel: str) -> None:
        """A slash command; its answer is private (its response_url), or for a nomination
        the post in the channel (a refused one is answered privately)."""
        side = self.sides[sent.replica]
        fields = side.command_fields(sent.user, line, channel)
        waiting = [self.answers.hook(urlsplit(fields["response_url"]).path)]
        if sent.kind == "nominate":
            waiting.append(self.answers.post(channel, sent.user))
        sent.sent = time.monotonic()
        status, body, sent.ack_seconds = await side.send(urlencode(fields))
        if status != 200 or body:
            sent.error = "did not go through" if REFUSED in body else f"ack {status}"
            sent.said = body[:80]
            for future in waiting:
                future.cancel()
            return
        sent.acked = True
        await self._answer(sent, waiting)

    async def click(self, sent: Sent, action_id: str, phase: Phase) -> None:
        side = self.sides[sent.replica]
        payload = side.click_payload(sent.user, action_id, phase.ballot_ts)
        payload["channel"]["id"] = payload["container"]["channel_id"] = phase.channel
        waiting = [self.answers.hook(urlsplit(payload["response_url"]).path)]
        sent.sent = time.monotonic()
        status, _, sent.ack_seconds = await side.send(urlencode({"payload": json.dumps(payload)}))
        if status != 200:
            sent.error = f"ack {status}"
            waiting[0].cancel()
            return
        sent.acked = True
        await self._answer(sent, waiting)

    async def _answer(self, sent: Sent, waiting: list[asyncio.Future[Call]]) -> None:
        done, pending = await asyncio.wait(
            waiting, timeout=ANSWER_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        for future in pending:
            future.cancel()
        if not done:
            sent.error = "no answer"
            return
        sent.answered_at = time.monotonic()
        said = done.pop().result().text()
        wanted = {"vote": "counts;", "read": CANDIDATES, "nominate": sent.user}[sent.kind]
        if REFUSED in said:  # (a click's refusal comes after its 200): nothing was promised
            sent.acked, sent.error = False, "did not go through"
        elif any(failure in said for failure in FAILED):
            sent.error = "failed"
        elif wanted not in said:
            sent.error = "wrong answer"
        sent.said = said[:80] if sent.error else ""


def member_names(phase: int, worker: int) -> Iterator[str]:
    for n in itertools.count():
        yield f"p{phase}w{worker:02d}u{n:03d}"


async def drive(load: Load, phase: Phase, seconds: float, meter: Meter) -> None:
    """``USERS`` members, each: vote, vote, nominate, read, vote; then the next member."""
    turn = itertools.count()
    before = await meter.read()
    phase.started = time.monotonic()
    deadline = phase.started + seconds

    async def member(worker: int) -> None:
        for k, name in enumerate(member_names(phase.number, worker)):
            votes = 0
            for step in STEPS:
                if time.monotonic() >= deadline:
                    return
                replica = next(turn) % phase.replicas
                if step == "vote":  # three different candidates
                    action = phase.action_ids[(worker + k + votes) % len(phase.action_ids)]
                    votes += 1
                    sent = Sent("vote", name, replica, action)
                    phase.requests.append(sent)
                    await load.click(sent, action, phase)
                elif step == "nominate":
                    paper = PAPERS[(worker + k) % len(PAPERS)]
                    sent = Sent("nominate", name, replica, paper)
                    phase.requests.append(sent)
                    await load.command(sent, f"/nominate {paper}", phase.channel)
                else:
                    sent = Sent("read", name, replica, "")
                    phase.requests.append(sent)
                    await load.command(sent, "/candidates", phase.channel)

    await asyncio.gather(*(member(w) for w in range(USERS)))
    done = [s.answered_at for s in phase.requests if s.answered_at is not None]
    phase.finished = max(done, default=time.monotonic())
    phase.used = await meter.read() - before
    phase.redraws = sum(
        1 for c in load.fake.to("chat.update") if c.args.get("ts") == phase.ballot_ts
    )


async def announced(load: Load, user: str, line: str, channel: str) -> Call:
    """Run a setup command on the first replica and wait for its post in the channel."""
    before = len([c for c in load.fake.to("chat.postMessage") if c.args["channel"] == channel])
    side = load.sides[0]
    status, body, _ = await side.send(side.command_body(user, line, channel))
    check((status, body) == (200, ""), f"{line} was answered {status} {body!r}")
    posts = await load.fake.wait_for(
        lambda: [c for c in load.fake.to("chat.postMessage") if c.args["channel"] == channel][
            before:
        ],
        timeout=30,
        what=f"the post of {line}",
    )
    return posts[0]


async def prepare(load: Load, phase: Phase) -> None:
    """A group in the phase's channel, the papers nominated, a round open: its ballot."""
    organizer = f"o{phase.number}"
    await announced(load, organizer, "/yomikai setup", phase.channel)
    for paper in PAPERS:
        await announced(load, organizer, f"/nominate {paper}", phase.channel)
    ballot = await announced(load, organizer, "/yomikai open", phase.channel)
    phase.action_ids = buttons(ballot)
    check(len(phase.action_ids) == len(PAPERS), f"the ballot has {phase.action_ids}")
    phase.round_id = int(phase.action_ids[0].split(":")[1])
    phase.ballot_ts = str(ballot.result["ts"])


@dataclass
class Verdict:
    completed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    lost: int = 0


def judged(db: Database, phase: Phase) -> Verdict:
    """Each request against what the database holds now: completed, an error, or lost."""
    with db.session(read_only=True) as session:
        group = session.exec(select(Group).where(Group.channel_id == phase.channel)).one()
        vote_rows = session.exec(
            select(Member.user_id, Vote.candidate_id)
            .select_from(Vote)
            .join(Member, col(Member.id) == Vote.member_id)
            .where(Vote.round_id == phase.round_id)
        ).all()
        nomination_rows = session.exec(
            select(Member.user_id, Paper.arxiv_id)
            .select_from(Nomination)
            .join(Member, col(Member.id) == Nomination.member_id)
            .join(Paper, col(Paper.id) == Nomination.paper_id)
            .where(Nomination.group_id == group.id)
        ).all()
    votes = {(u, f"vote:{phase.round_id}:{c}") for u, c in vote_rows}
    nominations = {(u, p) for u, p in nomination_rows}
    check(len(votes) == len(vote_rows), f"phase {phase.number}: a vote is stored twice")
    organizer = user_id(f"o{phase.number}")
    nominated = {(u, p) for u, p in nominations if u != organizer}
    sent_votes = {(user_id(s.user), s.target) for s in phase.requests if s.kind == "vote"}
    sent_nominations = {(user_id(s.user), s.target) for s in phase.requests if s.kind == "nominate"}
    check(votes <= sent_votes, f"phase {phase.number}: votes stored that no one sent")
    check(nominated <= sent_nominations, f"phase {phase.number}: nominations no one sent")
    verdict = Verdict()
    for sent in phase.requests:
        key = (user_id(sent.user), sent.target)
        stored = {  # a read's effect is its answer
            "vote": key in votes,
            "nominate": key in nominated,
            "read": sent.answered_at is not None,
        }[sent.kind]
        if sent.acked and not stored:
            verdict.lost += 1
        elif sent.error:
            check(
                sent.acked or not stored,
                f"phase {phase.number}: {sent.kind} of {sent.user} refused but stored",
            )
            verdict.errors[sent.error] += 1
        else:
            verdict.completed += 1
    return verdict


async def fresh_database(server: str) -> tuple[str, str]:
    """A new database on the PostgreSQL server, migrated: (its URL, its name)."""
    name = f"yomikai_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    await asyncio.to_thread(upgrade, db.engine)
    db.dispose()
    return url, name


def drop_database(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def run() -> Result:
    result = Result(7, "sustained mixed load on PostgreSQL, 1, 2 and 4 replicas")
    server = os.environ.get("YOMIKAI_TEST_POSTGRES_URL")
    if not server:
        result.add(Figure("commands per second", "skipped: no PostgreSQL", target="grows"))
        result.note("run it as scripts/with-postgres.sh .venv/bin/python -m benchmarks 7")
        return result
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    url, name = await fresh_database(server)
    db = Database(url)
    replicas: list[Running] = []
    try:
        with serve_fake_arxiv() as arxiv, tempfile.TemporaryDirectory() as folder:
            envs = [
                offline_env(
                    url,
                    fake.api_url,
                    YOMIKAI_ARXIV_API_URL=arxiv.url,
                    YOMIKAI_ARXIV_SPACING="0",
                )
                for _ in range(REPLICAS)
            ]
            started = await asyncio.gather(
                *(Running.start(yomikai("run"), env, Path(folder), UP) for env in envs),
                return_exceptions=True,
            )
            replicas = [r for r in started if isinstance(r, Running)]
            for failed in started:
                if isinstance(failed, BaseException):
                    raise failed
            ports = [int(env["YOMIKAI_HTTP_PORT"]) for env in envs]
            phases = await measure(fake, db, ports, [r.pid for r in replicas])
            asked = {re.sub(r"v\d+$", "", i) for q in arxiv.requests for i in q.ids}
            check(asked <= set(PAPERS), f"arXiv was asked for {asked}")
    finally:
        codes = await asyncio.gather(*(r.stop() for r in replicas))
        db.dispose()
        await asyncio.to_thread(drop_database, server, name)
        await runner.cleanup()
    check(codes == [0] * REPLICAS, f"the replicas ended with {codes}")
    report(result, phases)
    return result


async def measure(
    fake: FakeSlack, db: Database, ports: list[int], pids: list[int]
) -> list[tuple[Phase, Verdict]]:
    """The warm-up, then the measured phases, each judged against the database."""
    answers = Answers(fake)
    meter = Meter(pids, db)
    watching = asyncio.create_task(answers.watch())
    connector = aiohttp.TCPConnector(limit=4 * USERS)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            ids = itertools.count(1)  # trigger ids and response_urls unique across replicas
            sides = []
            for port in ports:
                side = SlackSide(SimpleNamespace(socket_mode=False, port=port), fake, http)  # type: ignore[arg-type]
                side._ids = ids
                sides.append(side)
            load = Load(sides, fake, answers)
            judgedphases = []
            shapes = [(0, REPLICAS, WARMUP_SECONDS)]
            shapes += [(n, k, PHASE_SECONDS) for n, k in enumerate(SHAPES, start=1)]
            for number, count, seconds in shapes:
                phase = Phase(number, count, f"C0BENCH{number:02d}")
                await prepare(load, phase)
                await drive(load, phase, seconds, meter)
                judgedphases.append((phase, await asyncio.to_thread(judged, db, phase)))
            return judgedphases
    finally:
        watching.cancel()


def rate(phase: Phase, verdict: Verdict) -> float:
    return verdict.completed / phase.elapsed


def report(result: Result, judgedphases: list[tuple[Phase, Verdict]]) -> None:
    measured = [(p, v) for p, v in judgedphases if p.number > 0]
    rates = {
        k: statistics.median(rate(p, v) for p, v in measured if p.replicas == k)
        for k in sorted(set(SHAPES))
    }
    runs = {k: SHAPES.count(k) for k in rates}
    one = rates[1]
    result.add(
        Figure("1 replica: commands/s completed", f"{one:.0f}/s", "(the baseline)", runs=runs[1])
    )
    for k in (k for k in rates if k > 1):
        result.add(
            Figure(
                f"{k} replicas: commands/s completed",
                f"{rates[k]:.0f}/s",
                f"{one:.0f}/s",
                ratio=rates[k] / one,
                target="> 1 (grows)",
                runs=runs[k],
                met=rates[k] > one,
            )
        )
    total = sum(len(p.requests) for p, _ in judgedphases)
    errors: Counter[str] = Counter()
    for _, v in judgedphases:
        errors.update(v.errors)
    lost = sum(v.lost for _, v in judgedphases)
    result.add(
        Figure(
            "errors", f"{sum(errors.values())} of {total}", target="0", met=not errors, runs=total
        )
    )
    result.add(
        Figure("lost (acknowledged, not stored)", str(lost), target="0", met=lost == 0, runs=total)
    )
    if errors:
        result.note("errors: " + ", ".join(f"{n} {what}" for what, n in errors.most_common()))
    for k in rates:
        sent = [s for p, _ in measured if p.replicas == k for s in p.requests]
        answered = [s.answered_at - s.sent for s in sent if s.answered_at is not None]
        acks = [s.ack_seconds for s in sent if s.acked]
        p50, p99, worst = spread(answered)
        ack50, ack99, ackmax = spread(acks)
        mine = [p for p, _ in measured if p.replicas == k]
        wall = sum(p.elapsed for p in mine)
        done = sum(v.completed for p, v in measured if p.replicas == k)
        used = [p.used for p in mine if p.used is not None]
        replicas = sum(u.replicas for u in used)
        database = sum(u.database for u in used)
        result.note(
            f"{k} replica{'s' if k > 1 else ''}: {len(sent)} requests; answered p50 {ms(p50)},"
            f" p99 {ms(p99)}, max {ms(worst)}; ack p50 {ms(ack50)}, p99 {ms(ack99)},"
            f" max {ms(ackmax)}; CPU per command: replicas {ms(replicas / done)},"
            f" PostgreSQL {ms(database / done)}; cores used: replicas {replicas / wall:.2f},"
            f" PostgreSQL {database / wall:.2f}, load generator"
            f" {sum(u.generator for u in used) / wall:.2f}, machine (everyone)"
            f" {statistics.mean(u.machine for u in used):.0%} busy; PostgreSQL sessions"
            f" opened {sum(u.sessions for u in used) / done:.2f} per command; ballot redrawn"
            f" {sum(p.redraws for p in mine) / wall:.1f} times a second"
        )
    if 4 in rates and 2 in rates:
        result.note(f"4 replicas against 2: {rates[4] / rates[2]:.2f}× (two cores for all)")
