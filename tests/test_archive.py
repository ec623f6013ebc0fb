"""The archive: /search finds what the group read (Japanese words inside sentences too), /yomikai
history says who presented what, and a paper read before is flagged when it comes back."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

from bot.archive import history as archive_history
from bot.archive import search as archive_search
from bot.messages import CandidateList, Notice, Problem, SummaryCard
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.trending import TrendingChain
from storage.backup import export_state, import_state
from storage.db import Database
from storage.migrate import config, upgrade
from storage.models import Member, Nomination
from storage.search import search
from tests.fakes.chat import FakeChat, ManualClock
from tests.fakes.trending_servers import FakeHuggingFace

pytestmark = pytest.mark.both_engines

BACKDOORS = "Planting Undetectable Backdoors in Machine Learning Models"  # 2204.06974
VIDEO = "Video Diffusion Models"  # 2204.03458
SOCRATIC = "Socratic Models: Composing Zero-Shot Multimodal Reasoning with Language"  # 2204.00598
STAR = "STaR: Bootstrapping Reasoning With Reasoning"  # 2203.14465
FIRST, SECOND = "2026-12-09", "2026-12-16"
LINE = re.compile(r"^(\d{4}-\d\d-\d\d) · (\d+)\. (.+?) — (.+)$")


def said(chat: FakeChat) -> list[Notice]:
    """The notices of the last reply (private and public)."""
    reply = chat.log[-1][2]
    return [m for m in (*reply.private, *reply.public) if isinstance(m, Notice)]


async def hits(chat: FakeChat, user: str, line: str) -> list[tuple[str, int, str, str]]:
    """(date, slot, title, where) of each result line of a /search."""
    reply = await chat.say(user, line)
    assert not [m for m in reply.private if isinstance(m, Problem)], reply
    (notice,) = reply.private
    assert isinstance(notice, Notice)
    return [(m[1], int(m[2]), m[3], m[4]) for line in notice.lines if (m := LINE.match(line))]


async def two_sessions(chat: FakeChat, clock: ManualClock) -> None:
    """Two sessions of two papers: the first met on 2026-12-09 (its cards written in Japanese),
    the second meets on 2026-12-16."""
    await chat.say("alice", "/yomikai setup papers 2")
    for user in ("alice", "bob"):
        await chat.say(user, "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("bob", "/nominate 2204.03458")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    await chat.say(
        "alice",
        "/card 1 method: 拡散を使わずに分類器へ裏口を仕込む"
        " translation: 検出できないバックドアの埋め込み"
        " summary: Unlike diffusion work, this is about trust.",
    )
    await chat.say("bob", "/card 2 method: 拡散モデルによる画像生成 translation: 動画の拡散モデル")
    clock.current = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)  # the first session met
    await chat.say("alice", "/nominate 2204.00598")
    await chat.say("bob", "/nominate 2203.14465")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    await chat.say(
        "alice", "/card 1 purpose: 拡散なしで画像と言語のモデルを組み合わせる results: 100% a_b"
    )


async def test_search_finds_words_inside_english_and_japanese_text(
    chat: FakeChat, clock: ManualClock
) -> None:
    await two_sessions(chat, clock)
    # An English word of an abstract (not in any title).
    assert await hits(chat, "erin", "/search malicious") == [(FIRST, 1, BACKDOORS, "Abstract")]
    # A two-character Japanese word inside card fields: newest session first, then within
    # the session the best match first (slot 2 has it in its method and translated title).
    assert await hits(chat, "erin", "/search 拡散") == [
        (SECOND, 1, SOCRATIC, "Purpose"),
        (FIRST, 2, VIDEO, "Method, Translated title"),
        (FIRST, 1, BACKDOORS, "Method"),
    ]
    # A longer word inside a sentence; a word of the translated title only.
    assert await hits(chat, "erin", "/search 画像生成") == [(FIRST, 2, VIDEO, "Method")]
    assert await hits(chat, "erin", "/search 埋め込み") == [
        (FIRST, 1, BACKDOORS, "Translated title")
    ]
    # Words are ANDed, any case; best match first within a session: the title beats the
    # summary, whatever the slot numbers.
    assert await hits(chat, "erin", "/search DIFFUSION 拡散") == [
        (FIRST, 2, VIDEO, "Title, Abstract, Method, Translated title"),
        (FIRST, 1, BACKDOORS, "Method, Summary"),
    ]
    assert await hits(chat, "erin", '/search "diffusion model" 画像') == [
        (FIRST, 2, VIDEO, "Title, Abstract, Method"),
    ]
    # The reply says how to open a result, and its date and slot open that card.
    shown = await chat.text("erin", "/search 画像生成")
    assert "Search: 画像生成 (1 found)" in shown
    assert f"/summary 2 {FIRST}" in shown
    (card,) = chat.only(await chat.say("erin", f"/summary 2 {FIRST}"), SummaryCard)
    assert card.title == VIDEO
    assert dict((f.key, f.value) for f in card.fields)["method"] == "拡散モデルによる画像生成"


async def test_search_keeps_current_and_to_the_group(
    chat: FakeChat, clock: ManualClock, db: Database
) -> None:
    await two_sessions(chat, clock)
    # A card saved again: the old words are gone from the index, the new ones found.
    await chat.say("alice", "/card 1 purpose: 言語モデルで推論する")
    assert await hits(chat, "erin", "/search 画像と言語") == []
    assert await hits(chat, "erin", "/search 推論する") == [(SECOND, 1, SOCRATIC, "Purpose")]
    # A paper's metadata changed under it (arXiv's new version) is found by its new words.
    with db.session() as session:
        session.execute(
            text("UPDATE paper SET abstract = 'Zebrafish everywhere.' WHERE arxiv_id = :id"),
            {"id": "2204.00598"},
        )
    assert await hits(chat, "erin", "/search zebrafish") == [(SECOND, 1, SOCRATIC, "Abstract")]
    assert await hits(chat, "erin", "/search spreadsheets") == []
    # Another group's sessions are never found; its own search finds only its own.
    other = FakeChat(chat.core, channel="C-other")
    await other.say("carol", "/yomikai setup papers 1")
    await other.say("carol", "/nominate 2203.15556")
    await other.say("carol", "/yomikai open")
    await other.say("carol", "/yomikai close")
    await other.say("carol", "/card 1 method: 拡散しない計算の見積もり")
    assert [hit[2] for hit in await hits(chat, "erin", "/search 拡散")] == [VIDEO, BACKDOORS]
    assert [hit[2] for hit in await hits(other, "erin", "/search 拡散")] == [
        "Training Compute-Optimal Large Language Models"
    ]
    # Its abstract holds "%" (the other group's), ours only a card: % is text, not a wildcard.
    assert await hits(chat, "erin", "/search %") == [(SECOND, 1, SOCRATIC, "Results")]
    assert await hits(chat, "erin", "/search _") == [(SECOND, 1, SOCRATIC, "Results")]


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", "NEAR(a b)", "%", "_", "'", "''", "a*", "***", "OR", "AND NOT -",
     "1' OR '1'='1", '"; DROP TABLE slot;--', "\\", "^拡散", "col:拡散", "(", "\"拡散", "拡*"],
)  # fmt: skip
async def test_search_reads_any_text_as_text(
    chat: FakeChat, clock: ManualClock, query: str
) -> None:
    await two_sessions(chat, clock)
    reply = await chat.say("erin", f"/search {query}")
    assert not reply.public
    (notice,) = reply.private
    assert isinstance(notice, Notice), notice  # a result or "nothing", never a failure
    for line in notice.lines:
        if match := LINE.match(line):
            assert match[1] in (FIRST, SECOND)
    # Quotes around a word are dropped, so this one still finds it.
    if query == '"拡散':
        assert len([line for line in notice.lines if LINE.match(line)]) == 3


async def test_search_without_words_or_results_and_the_limit(
    chat: FakeChat, clock: ManualClock, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two_sessions(chat, clock)
    problem = await chat.problem("erin", "/search")
    assert "What should I look for?" in problem.text and problem.usage == "/search <words>"
    problem = await chat.problem("erin", "/search " + " ".join(f"w{i}" for i in range(11)))
    assert "at most 10" in problem.text
    shown = await chat.text("erin", "/search photosynthesis")
    assert "Nothing in this group's sessions holds “photosynthesis”" in shown
    monkeypatch.setattr(archive_search, "SHOWN", 2)
    shown = await chat.text("erin", "/search model")
    assert "(4 found)" in shown and "… and 2 more" in shown
    assert len([line for line in shown.splitlines() if LINE.match(line)]) == 2
    # Read-only: a stranger's search leaves no member behind.
    with db.session() as session:
        before = len(session.exec(select(Member)).all())
    await chat.say("zed", "/search 拡散")
    with db.session() as session:
        assert len(session.exec(select(Member)).all()) == before


async def test_japanese_group_searches_in_japanese(chat: FakeChat, clock: ManualClock) -> None:
    await two_sessions(chat, clock)
    await chat.say("alice", "/yomikai setup language ja")
    shown = await chat.text("erin", "/search 画像生成")
    assert "検索：画像生成（1 件）" in shown and "方法" in shown
    assert f"（例：/summary 2 {FIRST}）" in shown
    shown = await chat.text("erin", "/search 光合成")
    assert "「光合成」を含むものがありません" in shown


async def test_the_index_follows_migrations_and_backups(
    chat: FakeChat, clock: ManualClock, db: Database, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    await two_sessions(chat, clock)
    with db.engine.begin() as connection:  # taken back before the index, and upgraded again
        command.downgrade(config(connection), "0006")
        assert not _triggers(connection)
    upgrade(db.engine)
    with db.engine.connect() as connection:
        assert len(_triggers(connection)) == (7 if db.engine.dialect.name == "sqlite" else 3)
    assert [hit[:2] for hit in await hits(chat, "erin", "/search 拡散")] == [
        (SECOND, 1),
        (FIRST, 2),
        (FIRST, 1),
    ]
    # A backup restored into an empty SQLite database: the triggers index what it imports.
    path = tmp_path / "restored.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    restored = Database(f"sqlite:///{path}")
    import_state(restored, export_state(db))
    with restored.session(read_only=True) as session:
        found = search(session, 1, ["画像生成"], limit=10)
    restored.dispose()
    assert [(h.number, h.title, h.parts) for h in found.hits] == [(2, VIDEO, ("method",))]


def _triggers(connection: object) -> list[str]:
    dialect = connection.dialect.name  # type: ignore[attr-defined]
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search_index%'"
        if dialect == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'search_index%'"
    )
    return list(connection.execute(text(sql)).scalars())  # type: ignore[attr-defined]


# --- /yomikai history ---------------------------------------------------------------------------


async def test_history_lists_who_presented_what(
    chat: FakeChat, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("alice", "/yomikai setup papers 2")
    await chat.say("alice", "/yomikai join")
    shown = await chat.text("erin", "/yomikai history")
    assert "Nothing presented yet" in shown and "alice: nothing presented yet" in shown
    await two_sessions(chat, clock)
    await chat.say("carol", "/yomikai join")
    await chat.say("carol", "/yomikai away 2026-12-31")
    await chat.say("erin", "/yomikai history")
    history, rotation = said(chat)
    presenters = {
        line.split(" — ")[0]: line.split(" — ")[1] for line in history.lines if " — " in line
    }
    # Only the session that met, newest first (here one), slot order within it.
    assert list(presenters) == [f"{FIRST} · 1. {BACKDOORS}", f"{FIRST} · 2. {VIDEO}"]
    assert sorted(presenters.values()) == ["alice", "bob"]
    first = presenters[f"{FIRST} · 1. {BACKDOORS}"]
    # The rotation, next first: carol never presented (away); alice and bob one each, one
    # more coming up on the planned session.
    assert rotation.lines[0] == "carol: nothing presented yet (away until 2026-12-31)"
    assert sorted(rotation.lines[1:]) == [
        f"alice: 1 presented, the last on {FIRST}; 1 coming up",
        f"bob: 1 presented, the last on {FIRST}; 1 coming up",
    ]
    # A member's own: only theirs.
    await chat.say("erin", f"/yomikai history @{first}")
    history, rotation = said(chat)
    assert history.title == f"What {first} presented"
    assert history.lines == (f"{FIRST} · 1. {BACKDOORS} — {first}",)
    assert rotation.lines == (f"{first}: 1 presented, the last on {FIRST}; 1 coming up",)
    await chat.say("dave", "/yomikai leave")  # (now the group knows dave)
    await chat.say("erin", "/yomikai history @dave")
    history, rotation = said(chat)
    assert history.lines == ("dave has not presented yet.",)
    assert rotation.lines == ("dave is not in the rotation.",)
    problem = await chat.problem("erin", "/yomikai history @nobody")
    assert "I don't know “nobody”" in problem.text
    problem = await chat.problem("erin", "/yomikai history alice bob")
    assert "bob" in problem.text
    # A week later both sessions met: newest first, and the list is cut with a count.
    clock.current = datetime(2026, 12, 17, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(archive_history, "SHOWN", 3)
    await chat.say("erin", "/yomikai history")
    history, rotation = said(chat)
    assert [line.split(" — ")[0] for line in history.lines[:3]] == [
        f"{SECOND} · 1. {SOCRATIC}",
        f"{SECOND} · 2. {STAR}",
        f"{FIRST} · 1. {BACKDOORS}",
    ]
    assert history.lines[3] == "… and 1 earlier"
    assert sorted(rotation.lines[1:]) == [
        f"alice: 2 presented, the last on {SECOND}",
        f"bob: 2 presented, the last on {SECOND}",
    ]


# --- a paper presented before -------------------------------------------------------------------


async def test_a_presented_paper_is_flagged_and_left_out_unless_an_organizer_adds_it(
    chat: FakeChat, clock: ManualClock, db: Database
) -> None:
    """The meeting is at 21:00 in New York: 02:00 the next day in UTC, so the date said is the
    group's (2026-12-09), not UTC's."""
    await chat.say("alice", "/yomikai setup papers 1 timezone America/New_York time 21:00")
    await chat.say("bob", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")  # bob presents it on 2026-12-09 at 21:00
    # While the session is still ahead, the paper is refused, as before.
    problem = await chat.problem("carol", "/nominate 2204.06974")
    assert "was already chosen for a session" in problem.text
    clock.current = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)

    # A member's nomination is kept (the old, spent ones are gone), but not offered.
    reply = await chat.say("carol", "/nominate 2204.06974 again please")
    (notice,) = reply.public
    assert isinstance(notice, Notice)
    assert f"carol nominated “{BACKDOORS}”." in notice.text
    assert "Already presented here on 2026-12-09 by bob." in notice.text
    assert "not offered on a ballot unless an organizer nominates it too" in notice.text
    assert "on the ballot when the next round opens" not in notice.text
    with db.session() as session:
        kept = session.exec(select(Nomination)).all()
        assert [n.reason for n in kept] == ["again please"]
    await chat.say("dave", "/nominate 2204.00598")
    reply = await chat.say("alice", "/yomikai open")
    (ballot,) = chat.only(reply, CandidateList)
    assert [c.title for c in ballot.candidates] == [SOCRATIC]
    shown = await chat.text("erin", "/candidates")
    assert "Read here before" in shown
    assert (
        f"“{BACKDOORS}”: Already presented here on 2026-12-09 by bob. Nominated again, not on"
        " the ballot: an organizer can put it back with /nominate 2204.06974."
    ) in shown

    # An organizer's nomination puts it back on the open ballot, and says so.
    reply = await chat.say("alice", "/nominate 2204.06974")
    (notice,) = reply.public
    assert isinstance(notice, Notice)
    assert "alice supports" in notice.text and "nominations now: 2" in notice.text
    assert "Already presented here on 2026-12-09 by bob." in notice.text
    assert "An organizer's nomination puts it back on the ballot." in notice.text
    assert "It is candidate 2 in the open round: /vote 2." in notice.text
    assert reply.round_changed is not None
    (ballot,) = chat.only(await chat.say("erin", "/candidates"), CandidateList)
    assert [c.title for c in ballot.candidates] == [SOCRATIC, BACKDOORS]
    shown = await chat.text("erin", "/candidates")
    assert f"2. “{BACKDOORS}”: Already presented here on 2026-12-09 by bob." in shown
    # Another member's support now says the organizer put it back.
    notice = (await chat.say("erin", "/nominate 2204.06974")).public[0]
    assert isinstance(notice, Notice)
    assert "An organizer has put it back on the ballot." in notice.text
    assert "It is candidate 2" in notice.text


async def test_an_organizers_nomination_of_a_presented_paper_reaches_the_next_round(
    chat: FakeChat, clock: ManualClock
) -> None:
    await chat.say("alice", "/yomikai setup papers 1")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")  # nobody in the rotation: an open slot
    clock.current = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    # The spent nominations alone never bring it back.
    problem = await chat.problem("alice", "/yomikai open")
    assert "nothing to vote on" in problem.text
    shown = await chat.text("alice", "/nominate 2204.06974")
    assert "Already presented here on 2026-12-09." in shown
    assert "puts it back on the ballot" in shown
    assert "It will be on the ballot when the next round opens." in shown
    (ballot,) = chat.only(await chat.say("alice", "/yomikai open"), CandidateList)
    assert [c.title for c in ballot.candidates] == [BACKDOORS]


async def test_a_poll_leaves_out_a_presented_paper_and_says_so(
    chat: FakeChat, clock: ManualClock, fake_hf: FakeHuggingFace, arxiv: ArxivSource
) -> None:
    hf = HuggingFaceSource(fake_hf.url, timeout=1.0, retries=0)
    chat.core.services = replace(chat.core.services, trending=TrendingChain([hf]))
    await chat.say("alice", "/yomikai setup papers 1")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    clock.current = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    fake_hf.fixture_date = "2026-12-10"  # it trends again, the day after it was read
    shown = await chat.text("alice", "/yomikai poll")
    assert re.fullmatch(
        r"Poll: \d+ new trending papers from huggingface\. 1 more were chosen for a session"
        r" here already \(presented or planned\), so they are left out\.",
        shown,
    ), shown
    (ballot,) = chat.only(await chat.say("alice", "/yomikai open"), CandidateList)
    assert ballot.candidates and "2204.06974" not in [c.arxiv_id for c in ballot.candidates]
    await hf.aclose()


async def test_a_japanese_group_hears_the_flag_in_japanese(
    chat: FakeChat, clock: ManualClock
) -> None:
    await chat.say("alice", "/yomikai setup papers 1 language ja timezone Asia/Tokyo")
    await chat.say("bob", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")  # 2026-12-09 17:00 in Tokyo
    clock.current = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    shown = await chat.text("carol", "/nominate 2204.06974")
    assert (
        "このグループでは 2026-12-09 に bob さんが発表済みです。推薦は残しますが、"
        "オーガナイザーも推薦しない限り投票の候補には入りません。"
    ) in shown
    shown = await chat.text("carol", "/yomikai history")
    assert f"2026-12-09 · 1. {BACKDOORS} — bob" in shown
    assert "bob：発表 1 回、最後は 2026-12-09" in shown


async def test_a_cancelled_session_is_neither_found_nor_history(
    chat: FakeChat, clock: ManualClock, db: Database
) -> None:
    """A session cancelled never met: its cards are not searched, nobody presented there, and
    its papers are not flagged as presented."""
    await two_sessions(chat, clock)
    with db.session() as session:
        session.execute(
            text("UPDATE session SET cancelled_at = created_at WHERE id = 1")  # 2026-12-09
        )
    assert [hit[:2] for hit in await hits(chat, "erin", "/search 拡散")] == [(SECOND, 1)]
    shown = await chat.text("erin", "/yomikai history")
    assert "Nothing presented yet" in shown and BACKDOORS not in shown
    shown = await chat.text("carol", "/nominate 2204.06974")
    assert f"carol supports “{BACKDOORS}”" in shown and "Already presented" not in shown
