"""Redrawing a posted ballot: folded edits, and the last word for what is stored."""

from __future__ import annotations

import pytest

from bot.core import Yomikai
from bot.delivery.outbox import BallotPost
from bot.delivery.redraw import BallotRedraw
from bot.messages import CandidateList
from tests.fakes.chat import FakeChat

pytestmark = pytest.mark.both_engines


async def posted_ballot(chat: FakeChat, core: Yomikai) -> CandidateList:
    await chat.say("alice", "/yomikai setup")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("bob", "/nominate 2204.00598")
    (ballot,) = chat.only(await chat.say("alice", "/yomikai open"), CandidateList)
    assert [sent.message for sent in chat.announced if sent.kind == "post"][-1] == ballot
    return ballot


def tallies(ballot: CandidateList) -> list[int]:
    return [line.votes for line in ballot.candidates]


async def test_a_burst_is_folded_and_ends_on_the_stored_state(
    chat: FakeChat, core: Yomikai
) -> None:
    ballot = await posted_ballot(chat, core)
    (ref,) = [sent.ref for sent in chat.announced if sent.message == ballot]
    drawn: list[CandidateList] = []

    async def draw(post: BallotPost) -> None:
        assert post.ref == ref  # the ballot's post, as the outbox remembered it
        drawn.append(post.ballot)

    redraw = BallotRedraw(core.unit, chat.platform, draw, interval=0.2)
    for n in range(10):  # ten votes, each followed by its request, as adapters do
        await chat.say(f"member{n}", "/vote 1")
        redraw.request(ballot.round_id)
    await redraw.drain()
    assert 1 <= len(drawn) <= 3 and redraw.edits == len(drawn)
    assert tallies(drawn[-1]) == [10, 0]


async def test_a_vote_taken_by_another_replica_still_reaches_the_ballot(
    chat: FakeChat, core: Yomikai
) -> None:
    """This replica drew the tallies just before another replica stored a vote (and asked its own
    redraw, which this one never hears of): the read an interval later draws it."""
    ballot = await posted_ballot(chat, core)
    drawn: list[CandidateList] = []

    async def draw(post: BallotPost) -> None:
        drawn.append(post.ballot)
        if len(drawn) == 1:
            await chat.say("carol", "/vote 2")  # committed elsewhere, no request here

    redraw = BallotRedraw(core.unit, chat.platform, draw, interval=0.05)
    redraw.request(ballot.round_id)
    await redraw.drain()
    assert [tallies(b) for b in drawn] == [[0, 0], [0, 1]]


async def test_nothing_new_means_no_second_edit(chat: FakeChat, core: Yomikai) -> None:
    ballot = await posted_ballot(chat, core)
    drawn: list[CandidateList] = []

    async def draw(post: BallotPost) -> None:
        drawn.append(post.ballot)

    redraw = BallotRedraw(core.unit, chat.platform, draw, interval=0.05)
    redraw.request(ballot.round_id)
    await redraw.drain()
    assert len(drawn) == 1 and not redraw.pending
    # Another platform's adapter never edits this platform's post.
    elsewhere = BallotRedraw(core.unit, "discord", draw, interval=0.05)
    elsewhere.request(ballot.round_id)
    await elsewhere.drain()
    assert len(drawn) == 1
