"""Garbage in every command: a friendly answer with an example, and nothing stored changes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import Database
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.chat import FakeChat

pytestmark = pytest.mark.both_engines

TABLES = ("reading_group", "member", "paper", "nomination", "round", "candidate", "vote")
TABLES += ("session", "slot", "card")


def snapshot(db: Database) -> dict[str, list]:
    with db.session() as session:
        return {t: session.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in TABLES}


@pytest.fixture
async def week(chat: FakeChat) -> FakeChat:
    """A group with an open round of two candidates and a session of one slot (bob presents)."""
    await chat.say("alice", "/yomikai setup papers 1")
    await chat.say("bob", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/nominate 2204.00598")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    await chat.say("alice", "/nominate 2203.14465")
    await chat.say("alice", "/yomikai open")
    await chat.say("carol", "/yomikai status")  # carol is known, not an organizer
    return chat


GARBAGE = [
    ("/summary abc", "“abc” is not a number", "/summary 3"),
    ("/summary 0", "Numbers start at 1", "/summary 3"),
    ("/summary 99", "There is no slot 99: this session has 1", "/summary 3"),
    ("/summary", "A number is missing", "/summary 3"),
    ("/summary 1 tomorrow", "“tomorrow” is not a date", "/summary 3"),
    ("/summary 1 2031-01-01", "There is no session on 2031-01-01", "/summary 3"),
    ("/summary 1 9999-12-31", "There is no session on 9999-12-31", "/summary 3"),
    ("/summary 1 0001-01-01", "There is no session on 0001-01-01", "/summary 3"),
    ("/vote 99", "There is no candidate 99: this round has 2", "/vote 2"),
    ("/vote -1", "Numbers start at 1, not -1", "/vote 2"),
    ("/vote 1.5", "“1.5” is not a number", "/vote 2"),
    ("/vote", "A number is missing", "/vote 2"),
    (
        "/vote 99999999999999999999",
        "no candidate 99999999999999999999: this round has 2",
        "/vote 2",
    ),
    ("/nominate not-a-paper", "“not-a-paper” is not an arXiv paper", "/nominate 2204.06974"),
    ("/nominate", "Which paper?", "/nominate 2204.06974"),
    ("/nominate <!channel>", "is not an arXiv paper", "/nominate 2204.06974"),
    ("/nominate 1; DROP TABLE paper;--", "is not an arXiv paper", "/nominate 2204.06974"),
    ("/nominate " + "x" * 10_000, "too long", "/nominate 2204.06974"),
    ("/card 1 purpose: mine", "belongs to its presenter", None),
    ("/card 1", "belongs to its presenter", None),
    ("/card 7", "There is no slot 7", "/card 3"),
    ("/card x", "“x” is not a number", "/card 3"),
    ("/yomikai take 1", "Slot 1 is bob's", None),
    ("/yomikai drop 1", "not yours to drop", None),
    ("/yomikai away someday", "“someday” is not a date", "/yomikai away 2026-12-24"),
    ("/yomikai away 2020-01-01", "in the past", "/yomikai away 2026-12-24"),
    ("/yomikai open", "Only organizers", None),
    ("/yomikai close", "Only organizers", None),
    ("/yomikai setup language ja", "Only organizers", None),
    ("/yomikai assign 1 @bob", "Only organizers", None),
    ("/yomikai frobnicate", "/yomikai has no “frobnicate”", None),
    ("/yomikai jion", "Did you mean /yomikai join?", None),
    ("/frobnicate", "There is no command /frobnicate", None),
    ('/vote "2', "quotation mark is not closed", "/vote 2"),
]


@pytest.mark.parametrize(("line", "says", "example"), GARBAGE)
async def test_garbage_is_explained_and_changes_nothing(
    week: FakeChat, db: Database, line: str, says: str, example: str | None
) -> None:
    before = snapshot(db)
    problem = await week.problem("carol", line)
    assert says in problem.text
    if example is None:
        assert problem.example is None
    else:
        assert (problem.example or "").startswith(example)
    assert len(problem.text) < 300
    assert snapshot(db) == before


ORGANIZER_GARBAGE = [
    ("/yomikai setup timezone Mars/Base", "is not a time zone"),
    ("/yomikai setup timezone Tokio", "Asia/Tokyo"),
    ("/yomikai setup day funday", "not a day of the week"),
    ("/yomikai setup time 25:00", "not a time"),
    ("/yomikai setup papers 0", "Numbers start at 1"),
    ("/yomikai setup papers 50", "from 1 to 20"),
    ("/yomikai setup papers 20", "needs at least as many candidates"),
    ("/yomikai setup language fr", "Use en or ja"),
    ("/yomikai setup colour blue", "I don't know the setting “colour”"),
    ("/yomikai setup timezone", "has no value"),
    ("/yomikai open", "already open"),
    ("/yomikai assign 1 @nobody", "I don't know “nobody”"),
    ("/yomikai assign 1", "Say who"),
    ("/yomikai swap 1 1", "two different slots"),
    ("/yomikai swap 1 5", "There is no slot 5"),
    ("/card 1 colour: blue", "Name the fields"),
    ("/card 1 purpose: " + "x" * 1001, "too long"),
]


@pytest.mark.parametrize(("line", "says"), ORGANIZER_GARBAGE)
async def test_organizer_garbage(week: FakeChat, db: Database, line: str, says: str) -> None:
    before = snapshot(db)
    problem = await week.problem("alice", line)
    assert says in problem.text
    assert snapshot(db) == before


async def test_commands_before_setup_say_how_to_start(chat: FakeChat, db: Database) -> None:
    for line in ("/vote 1", "/nominate 2204.06974", "/summary 1", "/yomikai join"):
        problem = await chat.problem("bob", line)
        assert "/yomikai setup" in problem.text
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM member")).scalar_one() == 0


async def test_unknown_paper_is_refused(week: FakeChat, db: Database) -> None:
    before = snapshot(db)
    problem = await week.problem("carol", "/nominate 2204.99999")
    assert "arXiv has no paper 2204.99999" in problem.text
    assert snapshot(db) == before


async def test_arxiv_down_loses_nothing(
    week: FakeChat, db: Database, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.mode = "503"
    before = snapshot(db)
    problem = await week.problem("carol", "/nominate 2203.15556")
    assert "arXiv is not answering" in problem.text and "Nothing was saved" in problem.text
    assert snapshot(db) == before
    fake_arxiv.mode = "ok"
    assert "carol nominated" in await week.text("carol", "/nominate 2203.15556")


async def test_a_crash_is_a_polite_problem_not_a_traceback(
    week: FakeChat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.voting

    def explode(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.voting, "tallies", explode)
    before = snapshot(db)
    problem = await week.problem("carol", "/vote 1")
    assert "something went wrong on my side" in problem.text
    assert "boom" not in problem.text and "Traceback" not in problem.text
    assert snapshot(db) == before
