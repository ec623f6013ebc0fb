"""Issue 13's findings, one test each: hostile text, numbers, extra words, strangers, zones."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.context import Invocation
from bot.export import session_markdown
from bot.messages import SessionExport
from storage.db import Database
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.chat import FakeChat
from tests.test_bad_input import snapshot

pytestmark = pytest.mark.both_engines

ESCAPES = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m"


def scalar(db: Database, sql: str) -> object:
    with db.session() as session:
        return session.execute(text(sql)).scalar_one()


async def test_nul_bytes_are_dropped_before_they_reach_the_database(
    two_rounds: FakeChat, db: Database
) -> None:
    said = await two_rounds.text("bob", "/nominate 2204.03458 why\x00 not")
    assert "bob nominated" in said and "\x00" not in said
    assert scalar(db, "SELECT reason FROM nomination WHERE reason LIKE 'why%'") == "why not"
    assert "Card 1 saved" in await two_rounds.text("alice", "/card 1 purpose: \x00x")
    assert scalar(db, "SELECT purpose FROM card") == "x"


async def test_escape_sequences_are_never_stored_or_echoed(
    two_rounds: FakeChat, db: Database
) -> None:
    said = await two_rounds.text("bob", f"/nominate 2204.03458 {ESCAPES}")
    assert "Why: red" in said and "\x1b" not in said and "\x07" not in said
    await two_rounds.say("alice", f"/card 1 method: {ESCAPES} signatures\tand\rkeys")
    assert scalar(db, "SELECT method FROM card") == "red signatures and\nkeys"
    shown = await two_rounds.text("alice", "/summary 1")
    assert "red signatures" in shown and "\x1b" not in shown


async def test_a_hostile_name_is_cleaned_too(two_rounds: FakeChat, db: Database) -> None:
    reply = await two_rounds.core.handle(
        Invocation("fake", two_rounds.channel, "U-dave", "\x1b[2Jda\x00ve", "yomikai", "join")
    )
    assert "dave joined" in reply.public[0].text  # type: ignore[union-attr]
    assert scalar(db, "SELECT display_name FROM member WHERE user_id = 'U-dave'") == "dave"


NUMBERS = [
    ("/vote -1", "Numbers start at 1, not -1"),
    ("/vote 0", "Numbers start at 1, not 0"),
    ("/vote 99999999999999999999", "There is no candidate 99999999999999999999: this round has 2"),
    ("/vote 1' OR '1'='1", "“1' OR '1'='1” is not a number"),
    ("/vote 1.5", "“1.5” is not a number"),
    ("/summary 99999999999999999999", "There is no slot 99999999999999999999: this session has 2"),
    ("/card 123456789012345678901234567890", "There is no slot 123456789012345678901234567890:"),
    ("/yomikai take -3", "Numbers start at 1, not -3"),
]


async def test_number_errors_say_what_is_wrong(two_rounds: FakeChat, db: Database) -> None:
    before = snapshot(db)
    for line, says in NUMBERS:
        problem = await two_rounds.problem("carol", line)
        assert says in problem.text and problem.usage, line
    assert snapshot(db) == before


async def test_setup_numbers_out_of_range_name_the_range(
    two_rounds: FakeChat, db: Database
) -> None:
    problem = await two_rounds.problem("alice", "/yomikai setup papers 1000000")
    assert "Papers per session must be from 1 to 20, not 1000000" in problem.text


async def test_digits_of_any_width_count(two_rounds: FakeChat, db: Database) -> None:
    said = await two_rounds.text("carol", "/vote ２")  # full width, as a Japanese IME types it
    assert "Your vote for 2" in said
    said = await two_rounds.text("carol", "/vote ١")  # Arabic-Indic one
    assert "Your vote for 1" in said
    assert scalar(db, "SELECT count(*) FROM vote") == 2


async def test_vote_takes_several_numbers_all_or_none(two_rounds: FakeChat, db: Database) -> None:
    said = await two_rounds.text("carol", "/vote 1 2 2")
    assert "Your vote for 1" in said and "Your vote for 2" in said
    assert scalar(db, "SELECT count(*) FROM vote") == 2  # 2 twice is one vote
    before = snapshot(db)
    problem = await two_rounds.problem("carol", "/vote 1 7")
    assert "There is no candidate 7" in problem.text
    assert snapshot(db) == before  # 1 was not toggled either


EXTRA_WORDS = [
    ("/yomikai swap 1 2 3", "“3” is more than this command takes"),
    ("/yomikai assign 1 bob carol", "“carol” is more than this command takes"),
    ("/yomikai away 2026-12-24 2026-12-31", "“2026-12-31” is more than"),
    ("/yomikai take 1 2", "“2” is more than"),
    ("/yomikai organizer bob carol", "“carol” is more than"),
    ("/yomikai join now please", "“now please” is more than"),
    ("/yomikai close soon", "“soon” is more than"),
    ("/summary 1 2026-12-09 x", "“x” is more than"),
    ("/yomikai schedule open mon 10:00 x", "“x” is more than"),
]


async def test_extra_words_are_refused_with_the_usage(two_rounds: FakeChat, db: Database) -> None:
    before = snapshot(db)
    for line, says in EXTRA_WORDS:
        problem = await two_rounds.problem("alice", line)
        assert says in problem.text and problem.usage, line
    assert snapshot(db) == before


STRANGERS = [
    ("/yomikai organizer <@U123>", "I don't know “U123” in this group yet"),
    ("/yomikai organizer @everyone", "“@everyone” means everyone, not one member"),
    ("/yomikai organizer <@everyone|everyone>", "“@everyone” means everyone"),
    ("/yomikai organizer <!channel>", "means everyone"),
    ("/yomikai organizer <@&883096824070668290>", "means everyone"),
    ("/yomikai assign 1 <@U123|mallory>", "I don't know “mallory” in this group yet"),
    ("/yomikai assign 1 @here", "“@here” means everyone"),
]


async def test_strangers_and_crowds_are_never_made_organizers_or_presenters(
    two_rounds: FakeChat, db: Database
) -> None:
    before = snapshot(db)
    for line, says in STRANGERS:
        problem = await two_rounds.problem("alice", line)
        assert says in problem.text, line
        assert "<@" not in problem.text  # the internal mention format is never shown
    assert snapshot(db) == before


async def test_a_member_the_group_knows_can_be_named(two_rounds: FakeChat) -> None:
    assert "carol is now an organizer" in await two_rounds.text(
        "alice", "/yomikai organizer @carol"
    )
    said = await two_rounds.text("alice", "/yomikai assign 1 <@U-carol|carol>")
    assert "carol presents slot 1" in said


async def test_only_canonical_time_zones(two_rounds: FakeChat, db: Database) -> None:
    before = snapshot(db)
    for zone in ("localtime", "Factory", "posix/Asia/Tokyo", "right/UTC", "Etc/GMT+9", "Japan"):
        problem = await two_rounds.problem("alice", f"/yomikai setup timezone {zone}")
        assert f"“{zone}” is not a time zone" in problem.text
    assert snapshot(db) == before


async def test_a_zone_in_any_case_is_stored_canonical(two_rounds: FakeChat, db: Database) -> None:
    said = await two_rounds.text("alice", "/yomikai setup timezone asia/tokyo")
    assert "Time zone: Asia/Tokyo" in said
    assert scalar(db, "SELECT timezone FROM reading_group") == "Asia/Tokyo"


async def test_a_tab_separates_words_like_a_space(two_rounds: FakeChat) -> None:
    said = await two_rounds.text("alice", "/yomikai \tstatus")
    assert "Reading group status" in said
    assert "Your vote for 1" in await two_rounds.text("carol", "/vote\t1")


async def test_nominating_before_setup_asks_for_setup_without_asking_arxiv(
    chat: FakeChat, fake_arxiv: FakeArxiv
) -> None:
    problem = await chat.problem("bob", "/nominate 2204.06974")
    assert "/yomikai setup" in problem.text
    assert fake_arxiv.requests == []


async def test_status_says_which_meeting_a_round_closed_now_is_for(two_rounds: FakeChat) -> None:
    said = await two_rounds.text("alice", "/yomikai status")
    # The clock is on 2026-12-02 (a Wednesday): three days ahead is Saturday, so the first free
    # Wednesday without a session is the 16th (the 9th has the session the first round made).
    assert "A round closed now is read on 2026-12-16 17:00" in said
    shown = await two_rounds.text("alice", "/yomikai schedule")
    assert "Papers chosen at the next close are read on" in shown


async def test_markdown_export_shows_hostile_text_literally(two_rounds: FakeChat) -> None:
    hostile = "```\n<!-- hidden\n## Heading\n[x](javascript:alert(1)) @everyone"
    await two_rounds.say("alice", f"/card 1 purpose: {hostile}")
    (export,) = two_rounds.only(await two_rounds.say("alice", "/yomikai export"), SessionExport)
    document = session_markdown(export)
    assert "```" not in document and "<!--" not in document
    assert "\n## Heading" not in document and "\\## Heading" in document
    assert "\\[x\\](javascript:alert(1))" in document  # no link: its brackets are escaped
    assert "@everyone" not in document
