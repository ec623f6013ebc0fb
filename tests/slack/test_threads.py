"""A thread per card on Slack: started once under the card's post, the presenter mentioned there
alone, replies kept as questions (never run as commands), and ``/summary`` linking the thread."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from adapters.slack import build
from bot.core import Yomikai
from bot.messages import Notice, Person, ThreadOpening
from storage.db import Database
from storage.models import Group, Member, PaperThread, Question, ReadingSession, Round, Slot
from tests.fakes.chat import ManualClock
from tests.slack.slack_side import (
    CHANNEL,
    SlackSide,
    ballot_posted,
    posted,
    said_to,
    slack_settings,
    user_id,
)

pytestmark = pytest.mark.both_engines

FIELDS = "purpose: detect backdoors results: undetectable method: signatures model: none"


async def _session_with_cards(slack: SlackSide, db: Database, clock: ManualClock) -> str:
    """Two papers chosen, both cards finished, the clock at the meeting; the presenter of 1."""
    await posted(slack, "alice", "/yomikai setup papers 2")
    for user in ("alice", "bob"):
        await posted(slack, user, "/yomikai join")
    await posted(slack, "alice", "/nominate 2204.06974")
    await posted(slack, "alice", "/nominate 2204.00598")
    await slack.command("alice", "/yomikai open")
    await ballot_posted(slack.fake)
    await posted(slack, "alice", "/yomikai close")
    with db.session() as session:
        slots = session.exec(select(Slot).order_by(Slot.number)).all()
        people = {m.id: m.display_name for m in session.exec(select(Member)).all()}
        presenters = [people[slot.presenter_id] for slot in slots if slot.presenter_id]
        meets_at = session.exec(select(ReadingSession)).one().meets_at
    for number, name in enumerate(presenters, 1):
        answer = await said_to(slack, name, f"/card {number} {FIELDS} affiliations: MIT")
        assert "is finished" in answer.text()
    clock.current = meets_at
    return presenters[0]


def _event(user: str, text: str, thread_ts: str, ts: str, event_id: str) -> str:
    """A ``message`` event as the Events API sends it for a reply in a thread."""
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": user_id(user),
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    return json.dumps(
        {
            "token": "unused",
            "team_id": "T04QX7N3K2B",
            "api_app_id": "A06BQ1P5J4Z",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(float(ts)),
        }
    )


async def _send_json(slack: SlackSide, body: str, **headers: str) -> int:
    status, _, took = await slack.send(body, headers={"Content-Type": "application/json"} | headers)
    assert took < 3.0
    return status


def _cards(slack: SlackSide) -> list[Any]:
    return [
        c
        for c in slack.fake.to("chat.postMessage")
        if "Card " in c.text() and not c.args.get("thread_ts")
    ]


async def test_each_card_gets_one_thread_and_its_questions(
    slack: SlackSide, db: Database, clock: ManualClock
) -> None:
    fake = slack.fake
    first = await _session_with_cards(slack, db, clock)
    await slack.command("alice", "/yomikai meet")
    await fake.wait_for(lambda: len(fake.replies) == 2, what="two threads")
    cards = _cards(slack)
    assert len(cards) == 2
    parent = next(c.result["ts"] for c in cards if "Card 1" in c.text())
    (opening,) = fake.replies[(CHANNEL, parent)]
    # The presenter alone is mentioned, in their own thread; the card post mentions nobody.
    assert f"<@{user_id(first)}>" in opening["text"] and opening["text"].count("<@") == 1
    assert all("<@" not in card.text() for card in cards)
    assert all(first in card.text() or "Presenter" in card.text() for card in cards)
    assert "Ask your questions here" in opening["text"]

    # A reply in the thread is a question, even one that looks like a command; a retry of the
    # same event is kept once; Slack hears 200 each time.
    body = _event(
        "bob", "What is the threat model? /yomikai close", parent, "1765000000.000100", "Ev1"
    )
    assert await _send_json(slack, body) == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert await _send_json(slack, body, **retry) == 200
    plain = _event("bob", "<!channel> is this *bold*?", parent, "1765000000.000200", "Ev2")
    assert await _send_json(slack, plain) == 200
    # A message in the channel itself, or in a thread that is no card's, is kept nowhere.
    elsewhere = _event("bob", "lunch?", "1765000000.000001", "1765000000.000300", "Ev3")
    assert await _send_json(slack, elsewhere) == 200

    with db.session() as session:
        asked = session.exec(select(Question).order_by(Question.id)).all()
        assert [q.text for q in asked] == [
            "What is the threat model? /yomikai close",
            "<!channel> is this *bold*?",
        ]
        assert {q.author_name for q in asked} == {"bob"}
        assert len(session.exec(select(PaperThread)).all()) == 2
        assert session.exec(select(Round)).one().closed_at is not None  # (closed before)

    # /summary 1 links the thread and lists the questions, escaped.
    card = await said_to(slack, "carol", "/summary 1")
    text = card.text()
    assert "Discussion thread" in text and f"p{parent.replace('.', '')}|open the thread>" in text
    assert "Questions from the thread (2)" in text and "What is the threat model?" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text

    # The meeting posted again by hand: its cards again, but no second thread under either.
    before = len(_cards(slack))
    clock.advance(minutes=5)
    await slack.command("alice", "/yomikai meet")
    await fake.wait_for(lambda: len(_cards(slack)) == before + 2)
    await slack.adapter.settle()
    await asyncio.sleep(0.3)
    assert sum(len(replies) for replies in fake.replies.values()) == 2


async def test_threads_off_makes_none(slack: SlackSide, db: Database, clock: ManualClock) -> None:
    await _session_with_cards(slack, db, clock)
    (said,) = await posted(slack, "alice", "/yomikai setup threads off")
    assert "Discussion threads: off" in said.text()
    await slack.command("alice", "/yomikai meet")
    await slack.fake.wait_for(lambda: len(_cards(slack)) == 2)
    await asyncio.sleep(0.3)
    assert slack.fake.replies == {}
    assert "thread" not in (await said_to(slack, "bob", "/summary 1")).text().lower()


async def test_two_replicas_start_each_thread_once(
    slack: SlackSide, db: Database, clock: ManualClock, core: Yomikai
) -> None:
    """A second bot process on the same database: the meeting falls due in both at once."""
    await _session_with_cards(slack, db, clock)
    other = Yomikai(db, core.services, clock)
    adapter = build(slack_settings(slack.fake), other, host="127.0.0.1", port=0)
    await adapter.start()
    other.connect(adapter)
    try:
        with db.session() as session:
            group_id = session.exec(select(Group)).one().id or 0
        await asyncio.gather(
            core.jobs.run_scheduled(group_id, "meet"), other.jobs.run_scheduled(group_id, "meet")
        )
        await slack.fake.wait_for(lambda: len(slack.fake.replies) == 2, what="two threads")
        await asyncio.gather(core.delivery.pass_once(), other.delivery.pass_once())
        assert len(_cards(slack)) == 2
        assert [len(r) for r in slack.fake.replies.values()] == [1, 1]
    finally:
        await adapter.stop()


async def test_a_thread_sent_again_after_a_crash_is_not_doubled(slack: SlackSide) -> None:
    """Sent again (its sender died before recording it): the opening is found among the
    thread's replies by its key and not posted a second time."""
    adapter = slack.adapter
    card = await adapter.post(CHANNEL, Notice("Card 1"), key="meet:1")
    opening = ThreadOpening("en", 1, 1, "<!channel> & co", Person(user_id("bob"), "bob"))
    first = await adapter.open_thread(CHANNEL, card, opening, key="thread:1")
    again = await adapter.open_thread(
        CHANNEL, card, opening, key="thread:1", since=datetime.now(UTC)
    )
    assert first == again and first.ref == card and first.link.endswith(card.replace(".", ""))
    (said,) = slack.fake.replies[(CHANNEL, card)]
    assert "&lt;!channel&gt; &amp; co" in said["text"] and f"<@{user_id('bob')}>" in said["text"]
