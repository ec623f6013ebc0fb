"""Backups: a week made through commands survives export → JSON → import, on and across engines."""

from __future__ import annotations

import io
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.messages import Agenda, CandidateList, Problem, SummaryCard
from bot.papers import PaperCatalog
from bot.ports import Thread
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.trending import TrendingChain
from bot.threads import ThreadMessage
from bot.threads.store import keep_question, remember
from storage.backup import FORMAT, VERSION, dump, export_state, import_state, load
from storage.db import Database
from storage.migrate import head
from storage.models import JobRun, Paper, ReceivedRequest, Slot
from tests.fakes.chat import FakeChat, ManualClock
from tests.fakes.drafting import drafting
from tests.fakes.model_server import FakeModel
from tests.fakes.paper_sites import FakePaperSites
from tests.fakes.trending_servers import FakeHuggingFace

pytestmark = [pytest.mark.both_engines, pytest.mark.timeout(30)]

PURPOSE = "拡散モデルで動画を生成する"
REASON = "バックドアの論文 — 面白い"

MakeDatabase = Callable[[str], Database]


@pytest.fixture
def fresh(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MakeDatabase]:
    """Makes new migrated, empty databases on either engine (as ``database_url`` does)."""
    made: list[Database] = []
    dropped: list[str] = []

    def make(engine: str) -> Database:
        if engine == "sqlite":
            path = tmp_path / f"restored-{len(made)}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
        else:
            admin, template = request.getfixturevalue("postgres_template")
            name = f"yomikai_restore_{uuid.uuid4().hex[:12]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            dropped.append(name)
            url = make_url(admin.url).set(database=name).render_as_string(hide_password=False)
        made.append(Database(url))
        return made[-1]

    yield make
    for database in made:
        database.dispose()
    if dropped:
        admin, _ = request.getfixturevalue("postgres_template")
        with admin.connect() as connection:
            for name in dropped:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def other(engine: str) -> str:
    return "postgresql" if engine == "sqlite" else "sqlite"


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def no_problems(chat: FakeChat) -> None:
    problems = [(line, m) for _, line, r in chat.log for m in r.private if isinstance(m, Problem)]
    assert not problems, problems


async def make_week(
    chat: FakeChat, fake_hf: FakeHuggingFace, sites: FakePaperSites, model: FakeModel
) -> SummaryCard:
    """A week in Japanese through real commands, cards drafted by a model: every table gets
    rows. Returns card 1."""
    clock = chat.core.clock
    drafting(chat.core, sites, model, spacing=0.01)
    fake_hf.fixture_date = clock.now().date().isoformat()
    hf = HuggingFaceSource(fake_hf.url, timeout=1.0, retries=0)
    chat.core.services = replace(chat.core.services, trending=TrendingChain([hf]))
    try:
        await chat.say("alice", "/yomikai setup timezone Asia/Tokyo day wed time 17:00 papers 2")
        await chat.say("alice", "/yomikai setup candidates 4 language ja")
        await chat.say("alice", "/yomikai poll")  # trending papers: pool entries with JSON extras
    finally:
        await hf.aclose()
    for user in ("alice", "bob", "carol"):
        await chat.say(user, "/yomikai join")
    await chat.say("alice", f'/nominate 2204.06974 "{REASON}"')
    await chat.say("bob", "/nominate 2204.00598")
    await chat.say("carol", "/nominate 2203.14465")
    (ballot,) = chat.only(await chat.say("alice", "/yomikai open"), CandidateList)
    assert await chat.core.ballot_post(ballot.round_id)  # its outbox row, sent
    for user, number in [("bob", 1), ("carol", 2), ("alice", 2), ("bob", 3)]:
        await chat.say(user, f"/vote {number}")
    await chat.say("dave", "/yomikai away 2026-12-16")
    clock.advance(days=1)
    (agenda,) = chat.only(await chat.say("alice", "/yomikai close"), Agenda)
    assert chat.core.drafts is not None and await chat.core.drafts.pass_once() == 2
    presenter = agenda.slots[0].presenter
    assert presenter is not None
    await chat.say(
        presenter.name,
        f"/card 1 purpose: {PURPOSE} method: 3D U-Net results: UCF-101で最高 "
        "model: Video Diffusion affiliations: Google",
    )
    with chat.core.db.session() as session:  # what the Slack adapter remembers of a retry
        session.add(ReceivedRequest(key="slack:Ev-1", received_at=clock.now()))
        session.add(JobRun(group_id=1, key="1:poll:2026-11-30T00:00Z", ran_at=clock.now()))
        slot = session.scalars(select(Slot).where(Slot.number == 1)).one()
        thread = Thread("1765000000.000100", "https://example.slack.com/archives/C1/p1")
        remember(session, slot.id or 0, thread, clock.now())  # as a chat with threads keeps it
    with chat.core.db.session() as session:
        said = "拡散モデルの学習コストは？"
        asked = ThreadMessage("fake", thread.ref, "m1", "U1", said)
        assert keep_question(session, asked, clock.now())
    no_problems(chat)
    (card,) = chat.only(await chat.say("erin", "/summary 1"), SummaryCard)
    assert PURPOSE in [f.value for f in card.fields]
    assert card.thread == thread.link and [q.text for q in card.questions] == [said]
    return card


def new_chat(db: Database, arxiv: ArxivSource, clock: ManualClock) -> FakeChat:
    core = Yomikai(db, Services(catalog=PaperCatalog(db, arxiv), defaults=GroupDefaults()), clock)
    chat = FakeChat(core)
    core.connect(chat)
    return chat


def round_trip(state: dict[str, Any]) -> dict[str, Any]:
    out = io.StringIO()
    dump(state, out)
    return load(io.StringIO(out.getvalue()))


async def check_restored(
    state: dict[str, Any],
    target: Database,
    card: SummaryCard,
    arxiv: ArxivSource,
    clock: ManualClock,
) -> None:
    """The restored database holds the same rows and the bot goes on working on it."""
    imported = import_state(target, round_trip(state))
    assert imported == {name: len(rows) for name, rows in state["tables"].items()}
    again = export_state(target)
    assert again["tables"] == state["tables"]

    chat = new_chat(target, arxiv, clock)
    (same,) = chat.only(await chat.say("erin", "/summary 1"), SummaryCard)
    assert same == card
    # New rows in every id-keyed table the commands touch: their ids must not collide.
    before = counts(target)
    clock.advance(days=6)
    await chat.say("dave", "/nominate 2204.03458")
    await chat.say("frank", "/yomikai join")
    (ballot,) = chat.only(await chat.say("alice", "/yomikai open"), CandidateList)
    await chat.say("frank", "/vote 1")
    no_problems(chat)
    with target.session() as session:  # every arXiv paper the fakes serve is known by now
        paper = Paper(arxiv_id="2212.00001", title="Later", fetched_at=clock.now())
        session.add(paper)
        session.add(ReceivedRequest(key="slack:Ev-2", received_at=clock.now()))
    after = counts(target)
    grown = ("member", "paper", "nomination", "round", "candidate", "vote", "received_request")
    assert [t for t in grown if after[t] <= before[t]] == []
    assert ballot.round_id == len(state["tables"]["round"]) + 1
    assert paper.id == len(state["tables"]["paper"]) + 1


# --- round trips ----------------------------------------------------------------------------------


async def test_a_week_survives_export_and_import(
    chat: FakeChat,
    clock: ManualClock,
    fake_hf: FakeHuggingFace,
    paper_sites: FakePaperSites,
    fake_model: FakeModel,
    arxiv: ArxivSource,
    db: Database,
    engine: str,
    fresh: MakeDatabase,
) -> None:
    card = await make_week(chat, fake_hf, paper_sites, fake_model)
    state = export_state(db)

    assert state["format"] == FORMAT and state["version"] == VERSION
    assert state["schema"] == head()  # the migration the source database was at
    assert set(state["tables"]) == set(SQLModel.metadata.tables)
    assert [name for name, rows in state["tables"].items() if not rows] == []
    group = state["tables"]["reading_group"][0]
    assert group["meeting_time"] == "17:00:00" and group["locale"] == "ja"
    assert group["created_at"].endswith("+00:00")
    assert [m["away_until"] for m in state["tables"]["member"] if m["away_until"]] == ["2026-12-16"]
    assert isinstance(state["tables"]["pool_entry"][0]["extras"], dict)
    assert isinstance(state["tables"]["paper"][0]["authors"], list)
    ids = [row["id"] for row in state["tables"]["paper"]]
    assert ids == sorted(ids)
    out = io.StringIO()
    dump(state, out)
    assert PURPOSE in out.getvalue() and REASON in out.getvalue()  # UTF-8, not \u escapes

    await check_restored(state, fresh(engine), card, arxiv, clock)


async def test_a_backup_moves_to_the_other_engine(
    chat: FakeChat,
    clock: ManualClock,
    fake_hf: FakeHuggingFace,
    paper_sites: FakePaperSites,
    fake_model: FakeModel,
    arxiv: ArxivSource,
    db: Database,
    engine: str,
    fresh: MakeDatabase,
) -> None:
    """SQLite → PostgreSQL and PostgreSQL → SQLite (skipped without a PostgreSQL cluster)."""
    target = fresh(other(engine))  # skips here, before the week is made, without PostgreSQL
    card = await make_week(chat, fake_hf, paper_sites, fake_model)
    await check_restored(export_state(db), target, card, arxiv, clock)


# --- refusals -------------------------------------------------------------------------------------


async def small_state(chat: FakeChat, db: Database) -> dict[str, Any]:
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("bob", "/nominate 2204.06974")
    no_problems(chat)
    return export_state(db)


async def test_a_database_with_rows_is_refused(chat: FakeChat, db: Database) -> None:
    state = await small_state(chat, db)
    filled = "paper, reading_group, member, outbox, nomination"
    with pytest.raises(ValueError, match=rf"the database is not empty \(rows in {filled}\)"):
        import_state(db, state)
    assert export_state(db)["tables"] == state["tables"]


async def test_one_bad_row_imports_nothing(
    chat: FakeChat, db: Database, engine: str, fresh: MakeDatabase
) -> None:
    state = await small_state(chat, db)
    nominations = state["tables"]["nomination"]
    nominations[1]["id"] = nominations[0]["id"]  # fails after groups, members, papers went in
    target = fresh(engine)
    with pytest.raises(ValueError, match="backup table nomination does not fit"):
        import_state(target, state)
    assert set(counts(target).values()) == {0}


def tamper(state: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    changed = json.loads(json.dumps(state))
    change(changed)
    return changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["tables"].update(bogus=[]), "unknown tables: bogus"),
        (
            lambda s: s["tables"]["member"][0].update(shoe_size=42),
            "backup table member, row 1: unknown columns shoe_size",
        ),
        (
            lambda s: s["tables"]["paper"][0].pop("arxiv_id"),
            "backup table paper, row 1: column arxiv_id is missing",
        ),
        (
            lambda s: s["tables"]["reading_group"][0].update(created_at="2026-11-30T09:00:00"),
            r"reading_group, row 1: created_at '2026-11-30T09:00:00' is not readable \(no UTC",
        ),
        (
            lambda s: s["tables"]["member"][0].update(created_at=12),
            "created_at should be an ISO 8601 string",
        ),
        (lambda s: s.update(version=2), r"backup version 2 is newer than this Yomikai \(1\)"),
        (lambda s: s.update(format="other"), "not a Yomikai backup"),
        (
            lambda s: s.update(schema="9999"),
            r"made by a newer Yomikai \(database schema 9999; this one knows up to \d{4}\)",
        ),
    ],
    ids=["table", "column", "missing", "naive", "number", "version", "format", "schema"],
)
async def test_a_bad_backup_writes_nothing(
    chat: FakeChat,
    db: Database,
    engine: str,
    fresh: MakeDatabase,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    bad = tamper(await small_state(chat, db), change)
    target = fresh(engine)
    with pytest.raises(ValueError, match=message):
        import_state(target, bad)
    assert set(counts(target).values()) == {0}


def test_a_database_without_the_schema_is_refused(tmp_path: Path) -> None:
    target = Database(f"sqlite:///{tmp_path / 'blank.db'}")
    state = {"format": FORMAT, "version": VERSION, "exported_at": "", "tables": {}}
    with pytest.raises(ValueError, match=r"has no table .*reading_group.*: migrate it"):
        import_state(target, state)
    target.dispose()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hello", r"not a Yomikai backup: not JSON"),
        ("", r"not a Yomikai backup: not JSON"),
        ("[1, 2]", r"not a Yomikai backup \(no \"format\""),
        ('{"format": "other", "version": 1}', "not a Yomikai backup"),
        ('{"format": "yomikai-backup", "version": "1"}', "bad version '1'"),
        ('{"format": "yomikai-backup", "version": 2, "tables": {}}', r"newer than this Yomikai"),
        ('{"format": "yomikai-backup", "version": 1}', r'"tables" is missing'),
        ('{"format": "yomikai-backup", "version": 1, "tables": {"paper": [1]}}', "not a list"),
    ],
)
def test_load_refuses_what_is_not_a_backup(content: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load(io.StringIO(content))


def test_load_accepts_what_dump_wrote() -> None:
    state = {"format": FORMAT, "version": VERSION, "exported_at": "x", "tables": {"paper": []}}
    out = io.StringIO()
    dump(state, out)
    assert out.getvalue().startswith('{\n "exported_at"')  # sorted keys, indent 1
    assert load(io.StringIO(out.getvalue())) == state
