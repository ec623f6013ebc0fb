"""``/yomikai export``: a session's cards as one Markdown document, for organizers."""

from __future__ import annotations

import pytest

from bot.export import session_markdown
from bot.messages import DeckFile, SessionExport
from storage.db import Database
from tests.fakes.chat import FakeChat, ManualClock
from tests.test_bad_input import snapshot

pytestmark = pytest.mark.both_engines


async def closed_session(chat: FakeChat, clock: ManualClock, language: str = "en") -> None:
    """Two papers read on Wednesday 2026-12-09 in Tokyo; bob presents slot 1 and wrote its card."""
    setup = f"/yomikai setup timezone Asia/Tokyo day wed time 17:00 papers 2 language {language}"
    await chat.say("alice", setup)
    await chat.say("bob", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/nominate 2204.00598")
    await chat.say("alice", "/yomikai open")
    clock.advance(days=1)
    await chat.say("alice", "/yomikai close")
    await chat.say("alice", "/yomikai assign 1 @bob")
    await chat.say(
        "bob",
        "/card 1 purpose: backdoors method: @everyone <!channel> results: undetectable"
        " model: none affiliations: MIT summary: A short summary.",
    )


def exported(chat: FakeChat, reply: object) -> SessionExport:
    (document,) = chat.only(reply, SessionExport)  # type: ignore[arg-type]
    return document


async def test_organizers_export_the_latest_session(chat: FakeChat, clock: ManualClock) -> None:
    await closed_session(chat, clock)
    reply = await chat.say("alice", "/yomikai export")
    assert not reply.public  # only the organizer who asked sees it
    document = exported(chat, reply)
    assert document.filename == "yomikai-2026-12-09.md"
    assert [card.number for card in document.cards] == [1, 2]
    text = session_markdown(document)
    assert text.startswith("# Session of 2026-12-09 17:00\n")
    assert "## Card 1 · 2026-12-09" in text and "## Card 2 · 2026-12-09" in text
    assert "Planting Undetectable Backdoors in Machine Learning Models" in text
    assert "https://arxiv.org/abs/2204.06974" in text
    assert "### Purpose\n\nbackdoors" in text and "### Summary\n\nA short summary." in text
    assert "Presenter: bob" in text
    assert text.count("(not yet written)") == 5  # card 2: every field still to write
    # By date too; the same document.
    again = exported(chat, await chat.say("alice", "/yomikai export 2026-12-09"))
    assert again == document


async def test_in_japanese_the_fields_are_japanese(chat: FakeChat, clock: ManualClock) -> None:
    await closed_session(chat, clock, language="ja")
    text = session_markdown(exported(chat, await chat.say("alice", "/yomikai export")))
    for label in ("目的", "成果", "方法", "モデル名", "著者所属"):
        assert f"### {label}" in text


async def test_export_mistakes_are_explained_and_change_nothing(
    chat: FakeChat, clock: ManualClock, db: Database
) -> None:
    assert "no reading group" in (await chat.problem("alice", "/yomikai export")).text
    await chat.say("alice", "/yomikai setup")
    assert "no session yet" in (await chat.problem("alice", "/yomikai export")).text.lower()
    await closed_session(chat, clock)
    before = snapshot(db)
    problem = await chat.problem("bob", "/yomikai export")
    assert "Only organizers" in problem.text
    problem = await chat.problem("alice", "/yomikai export next-week")
    assert problem.usage == "/yomikai export [YYYY-MM-DD] [md|html|pdf]"
    problem = await chat.problem("alice", "/yomikai export 2026-12-16")
    assert "2026-12-09" in problem.text  # the sessions there are
    problem = await chat.problem("alice", "/yomikai export 2026-12-09 2026-12-16")
    assert problem.example == "/yomikai export 2026-12-09 html"
    assert snapshot(db) == before


async def test_export_with_a_format_posts_the_deck_once(
    chat: FakeChat, clock: ManualClock, db: Database
) -> None:
    await closed_session(chat, clock)
    said = await chat.text("alice", "/yomikai export 2026-12-09 md")
    assert "The deck of 2026-12-09 (md) is being posted to the channel." in said
    (posted,) = [s.message for s in chat.announced if isinstance(s.message, DeckFile)]
    assert posted.filename == "yomikai-2026-12-09.md" and posted.media_type == "text/markdown"
    assert posted.data.startswith(b"---\nmarp: true") and "the deck" in posted.intro
    problem = await chat.problem("alice", "/yomikai export md html")
    assert "more than this command takes" in problem.text
