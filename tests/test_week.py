"""Two simulated weeks that run themselves: who got which post when, across time zones and DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Agenda, CandidateList, DeckFile, Notice, Reminder, SummaryCard
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.trending import TrendingChain
from tests.fakes.chat import FakeChat, ManualClock
from tests.fakes.trending_servers import FakeHuggingFace
from tests.fakes.week import run_until

pytestmark = pytest.mark.both_engines

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def timeline(chat: FakeChat, channel: str, zone: ZoneInfo) -> list[tuple[str, str, str, str]]:
    """(local time, kind, to whom, what) for everything the bot sent about one channel."""
    rows = []
    for sent in chat.sent:
        if sent.kind == "dm" and isinstance(sent.message, Reminder):
            target = sent.target
        elif sent.target.split("/")[0] == channel:
            target = "channel"
        else:
            continue
        what = type(sent.message).__name__
        if isinstance(sent.message, SummaryCard):
            what += f" {sent.message.number}"
        if isinstance(sent.message, Reminder):
            what += f" {sent.message.number}"
        rows.append((f"{sent.at.astimezone(zone):%a %m-%d %H:%M}", sent.kind, target, what))
    return rows


async def test_a_week_in_tokyo_runs_itself(chat: FakeChat, clock: ManualClock) -> None:
    clock.current = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # Sunday 09:00 in Tokyo
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo papers 2")
    for user in ("alice", "bob"):
        await chat.say(user, "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("bob", "/nominate 2204.00598")
    await chat.say("bob", "/nominate 2203.14465")

    await run_until(chat.core, clock, datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO))
    (ballot,) = [s.message for s in chat.sent if isinstance(s.message, CandidateList)]
    await chat.say("carol", "/vote 2")
    await chat.say("dave", "/vote 3")
    await chat.say("erin", "/vote 3")
    # the posted ballot was remembered, so tallies can be redrawn in place
    post = await chat.core.ballot_post(ballot.round_id)
    assert post is not None and post.ref.startswith("ref-")
    assert [c.votes for c in post.ballot.candidates] == [0, 1, 2]

    await run_until(chat.core, clock, datetime(2026, 12, 8, 12, 0, tzinfo=TOKYO))
    await chat.say("bob", "/card 2 purpose: p results: r method: m model: x affiliations: a")
    await run_until(chat.core, clock, datetime(2026, 12, 10, 0, 0, tzinfo=TOKYO))

    assert timeline(chat, chat.channel, TOKYO) == [
        ("Mon 11-30 10:00", "post", "channel", "CandidateList"),
        ("Tue 12-01 18:00", "post", "channel", "Agenda"),
        ("Tue 12-01 18:00", "update", "channel", "CandidateList"),  # the ballot, now closed
        ("Mon 12-07 10:00", "post", "channel", "CandidateList"),  # the paper left over
        ("Mon 12-07 17:00", "post", "channel", "Agenda"),
        ("Mon 12-07 17:00", "dm", "U-alice", "Reminder 1"),
        ("Mon 12-07 17:00", "dm", "U-bob", "Reminder 2"),
        ("Tue 12-08 18:00", "post", "channel", "Agenda"),  # for the meeting of 12-16
        ("Tue 12-08 18:00", "update", "channel", "CandidateList"),
        ("Wed 12-09 16:00", "post", "channel", "Agenda"),
        ("Wed 12-09 16:00", "dm", "U-alice", "Reminder 1"),
        ("Wed 12-09 17:00", "post", "channel", "SummaryCard 2"),
        ("Wed 12-09 17:00", "post", "channel", "Notice"),
        ("Wed 12-09 17:00", "post", "channel", "DeckFile"),  # the session's slides, once
    ]
    (agenda,) = [s.message for s in chat.sent if isinstance(s.message, Agenda)][:1]
    assert [slot.arxiv_id for slot in agenda.slots] == ["2203.14465", "2204.00598"]
    assert agenda.meets_at.isoformat() == "2026-12-09T17:00:00+09:00"
    deck = chat.sent[-1].message
    assert isinstance(deck, DeckFile) and deck.filename == "yomikai-2026-12-09.html"
    assert deck.media_type == "text/html" and deck.data.startswith(b"<!DOCTYPE html>")
    missing = chat.sent[-2].message
    assert isinstance(missing, Notice) and missing.lines == ("Slot 1: alice",)


async def test_dst_change_keeps_local_times(chat: FakeChat, clock: ManualClock) -> None:
    """New York leaves daylight saving time on Sunday 2026-11-01: 10:00 stays 10:00 local."""
    clock.current = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    await chat.say("alice", "/yomikai setup timezone America/New_York papers 1")
    await chat.say("alice", "/yomikai join")
    for paper in ("2204.06974", "2204.00598"):
        await chat.say("alice", f"/nominate {paper}")
    await run_until(chat.core, clock, datetime(2026, 11, 5, tzinfo=UTC))
    posts = [(s.at.astimezone(UTC), type(s.message).__name__) for s in chat.sent]
    assert [(f"{at:%m-%d %H:%M}", what) for at, what in posts] == [
        ("10-26 14:00", "CandidateList"),  # Monday 10:00 EDT (UTC-4)
        ("10-27 22:00", "Agenda"),  # Tuesday 18:00 EDT
        ("10-27 22:00", "CandidateList"),  # the ballot redrawn, closed
        ("11-02 15:00", "CandidateList"),  # Monday 10:00 EST (UTC-5): the second paper
        ("11-02 22:00", "Agenda"),  # reminder, two days before Wednesday 17:00 EST
        ("11-02 22:00", "Reminder"),
        ("11-03 23:00", "Agenda"),  # Tuesday 18:00 EST: the second round closes
        ("11-03 23:00", "CandidateList"),
        ("11-04 21:00", "Agenda"),  # reminder, one hour before the meeting
        ("11-04 21:00", "Reminder"),
        ("11-04 22:00", "Notice"),  # Wednesday 17:00 EST: no card finished
        ("11-04 22:00", "DeckFile"),  # and the session's slides
    ]


async def test_two_groups_in_two_zones_do_not_mix(chat: FakeChat, clock: ManualClock) -> None:
    clock.current = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    other = FakeChat(chat.core, channel="C-ny")
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo")
    await other.say("zoe", "/yomikai setup timezone America/New_York")
    await chat.say("alice", "/nominate 2204.06974")
    await other.say("zoe", "/nominate 2204.00598")
    await run_until(chat.core, clock, datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    opened = [(s.target, s.at) for s in chat.sent if isinstance(s.message, CandidateList)]
    assert opened == [
        (chat.channel, datetime(2026, 11, 30, 1, 0, 5, tzinfo=UTC)),  # 10:00 Tokyo
        ("C-ny", datetime(2026, 11, 30, 15, 0, 5, tzinfo=UTC)),  # 10:00 New York
    ]


async def test_a_quiet_week_posts_nothing(chat: FakeChat, clock: ManualClock) -> None:
    clock.current = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    await chat.say("alice", "/yomikai setup")
    runs = await run_until(chat.core, clock, datetime(2026, 12, 7, tzinfo=UTC))
    assert runs > 10
    assert chat.sent == []


async def test_poll_fills_the_pool_and_the_next_round(
    chat: FakeChat, clock: ManualClock, fake_hf: FakeHuggingFace, arxiv: ArxivSource
) -> None:
    """Trending papers from (a fake) Hugging Face reach Monday's ballot, best score first."""
    clock.current = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    fake_hf.fixture_date = "2026-11-28"
    hf = HuggingFaceSource(fake_hf.url, timeout=1.0, retries=0)
    chat.core.services = replace(chat.core.services, trending=TrendingChain([hf]))
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo candidates 5")
    await chat.say("alice", "/nominate 2204.06974")  # also trending: counted once, as nominated
    assert "12 new trending papers from huggingface" in await chat.text("alice", "/yomikai poll")
    assert "0 new trending papers" in await chat.text("alice", "/yomikai poll")  # nothing twice
    await run_until(chat.core, clock, datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO))
    (ballot,) = [s.message for s in chat.sent if isinstance(s.message, CandidateList)]
    assert ballot.candidates[0].arxiv_id == "2204.06974"
    assert ballot.candidates[0].nominations == 1
    trending = ballot.candidates[1:]
    assert len(trending) == 5
    scores = [c.trending_score for c in trending]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    await hf.aclose()
