"""The whole weekly cycle as a conversation in one channel, through the real core and SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.messages import Agenda, CandidateList, CardForm, SummaryCard
from storage.backup import export_state
from storage.db import Database
from storage.models import Member, Nomination, Paper, ReadingSession, Vote
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.chat import FakeChat, ManualClock

pytestmark = pytest.mark.both_engines

PAPERS = ["2204.06974", "2204.00598", "2203.14465", "2204.03458", "2203.15556", "2203.13131"]


async def set_up_group(chat: FakeChat) -> None:
    await chat.say("alice", "/yomikai setup timezone Asia/Tokyo day wed time 17:00 papers 3")
    for user in ("alice", "bob", "carol"):
        await chat.say(user, "/yomikai join")


async def nominate_all(chat: FakeChat) -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "alice"]
    for user, paper in zip(users, PAPERS, strict=True):
        await chat.say(user, f"/nominate {paper}")


async def test_whole_week(chat: FakeChat, clock: ManualClock, db: Database) -> None:
    # Monday: the group is bound, people nominate, a second nomination is support.
    created = await chat.text("alice", "/yomikai setup timezone Asia/Tokyo day wed time 17:00")
    assert "Asia/Tokyo" in created and "Wednesday 17:00" in created
    said = await chat.text("alice", '/nominate 2204.06974 "great backdoor paper"')
    assert "alice nominated “Planting Undetectable Backdoors in Machine Learning Models”" in said
    assert "great backdoor paper" in said
    said = await chat.text("bob", "/nominate https://arxiv.org/abs/2204.06974v2")
    assert "bob supports" in said and "nominations now: 2" in said
    await chat.say("carol", "/nominate arXiv:2204.00598")
    await chat.say("carol", "/nominate https://huggingface.co/papers/2203.14465")

    # The organizer opens voting; the ballot lists the pool, most supported first.
    reply = await chat.say("alice", "/yomikai open")
    (ballot,) = chat.only(reply, CandidateList)
    assert [c.arxiv_id for c in ballot.candidates] == ["2204.06974", "2204.00598", "2203.14465"]
    assert ballot.candidates[0].nominations == 2

    # A late nomination lands on the open ballot as candidate 4.
    said = await chat.text("dave", "/nominate 2204.03458")
    assert "candidate 4" in said

    # Approval voting: several votes each; voting twice takes it back.
    assert "votes now: 1" in await chat.text("bob", "/vote 3")
    assert "taken back" in await chat.text("bob", "/vote 3")
    for user, number in [("bob", 2), ("carol", 2), ("dave", 2), ("bob", 4), ("carol", 4)]:
        await chat.say(user, f"/vote {number}")
    (shown,) = chat.only(await chat.say("erin", "/candidates"), CandidateList)
    assert {c.number: c.votes for c in shown.candidates} == {1: 0, 2: 3, 3: 0, 4: 2}

    # Tuesday: presenters opt in; one is away for the meeting; the round closes.
    for user in ("bob", "carol", "dave"):
        await chat.say(user, "/yomikai join")
    await chat.say("dave", "/yomikai away 2026-12-09")
    await chat.say("alice", "/yomikai setup papers 3")
    clock.advance(days=1)
    reply = await chat.say("alice", "/yomikai close")
    (agenda,) = chat.only(reply, Agenda)
    assert agenda.meets_at.isoformat() == "2026-12-09T17:00:00+09:00"
    assert [s.arxiv_id for s in agenda.slots] == ["2204.00598", "2204.03458", "2204.06974"]
    assert [s.presenter.name if s.presenter else None for s in agenda.slots] == [
        "bob",
        "carol",
        None,
    ]
    assert "No voting round is open" in (await chat.problem("bob", "/vote 2")).text

    # An open slot is taken; a presenter writes a card field by field.
    assert "dave takes slot 3" in await chat.text("dave", "/yomikai take 3")
    (form,) = chat.only(await chat.say("carol", "/card 2"), CardForm)
    assert form.number == 2 and form.values["purpose"] == ""
    said = await chat.text("carol", "/card 2 purpose: video generation method: 3D U-Net")
    assert "Still missing: Results, Model name, Author affiliations" in said
    said = await chat.text(
        "carol", "/card 2 results: SOTA on UCF-101 model: Video Diffusion affiliations: Google"
    )
    assert "Card 2 is finished" in said

    # Anyone reads the card; by date too.
    (card,) = chat.only(await chat.say("erin", "/summary 2"), SummaryCard)
    assert card.title == "Video Diffusion Models" and card.finished
    assert dict((f.key, f.value) for f in card.fields)["method"] == "3D U-Net"
    (same,) = chat.only(await chat.say("erin", "/summary 2 2026-12-09"), SummaryCard)
    assert same == card

    # Fairness: next week's rotation starts with those who have not presented yet.
    await chat.say("alice", "/yomikai join")
    said = await chat.text("erin", "/presenters")
    assert "Next up: alice, bob, carol" in said

    with db.session() as session:
        assert len(session.exec(select(Paper)).all()) == 4
        assert len(session.exec(select(Nomination)).all()) == 5
        assert len(session.exec(select(Vote)).all()) == 5


async def test_known_papers_are_never_fetched_again(chat: FakeChat, fake_arxiv: FakeArxiv) -> None:
    await set_up_group(chat)
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("bob", "/nominate arXiv:2204.06974v1")
    await chat.say("carol", "/nominate https://arxiv.org/pdf/2204.06974v2.pdf")
    assert len(fake_arxiv.requests) == 1


async def test_one_member_nominating_twice_counts_once(chat: FakeChat, db: Database) -> None:
    await set_up_group(chat)
    await chat.say("alice", "/nominate 2204.06974")
    said = await chat.text("alice", "/nominate 2204.06974")
    assert "You already nominated" in said
    with db.session() as session:
        assert len(session.exec(select(Nomination)).all()) == 1


async def test_fair_rotation_over_weeks(chat: FakeChat, clock: ManualClock) -> None:
    await chat.say("alice", "/yomikai setup papers 1 candidates 1")
    for user in ("alice", "bob", "carol"):
        await chat.say(user, "/yomikai join")
    presenters = []
    for paper in PAPERS[:4]:
        await chat.say("alice", f"/nominate {paper}")
        await chat.say("alice", "/yomikai open")
        (agenda,) = chat.only(await chat.say("alice", "/yomikai close"), Agenda)
        presenters.append(agenda.slots[0].presenter.name)
        clock.advance(days=7)
    assert presenters == ["alice", "bob", "carol", "alice"]


async def test_drop_goes_back_to_rotation_then_open(chat: FakeChat) -> None:
    await chat.say("alice", "/yomikai setup papers 2")
    await chat.say("bob", "/yomikai join")
    await chat.say("carol", "/yomikai join")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/nominate 2204.00598")
    await chat.say("alice", "/yomikai open")
    await chat.say("alice", "/yomikai close")
    assert "bob presents slot 1" not in await chat.text("carol", "/presenters")
    said = await chat.text("bob", "/yomikai drop 1")
    assert "bob gave slot 1 back" in said and "Slot 1 is open" in said
    assert "Slot 2 is carol's" in (await chat.problem("bob", "/yomikai take 2")).text
    assert "not yours" in (await chat.problem("bob", "/yomikai drop 2")).text
    stranger = await chat.problem("alice", "/yomikai assign 1 <@U-erin|erin>")
    assert "I don't know “erin” in this group yet" in stranger.text  # never seen here
    await chat.say("erin", "/yomikai leave")  # (a command that writes makes erin known)
    assert "erin presents slot 1" in await chat.text("alice", "/yomikai assign 1 <@U-erin|erin>")
    assert "know “nobody”" in (await chat.problem("alice", "/yomikai assign 1 @nobody")).text
    await chat.say("alice", "/yomikai swap 1 2")
    (agenda,) = chat.only(await chat.say("bob", "/presenters"), Agenda)
    assert [s.presenter.name for s in agenda.slots] == ["carol", "erin"]


async def test_language_switch(chat: FakeChat) -> None:
    await chat.say("alice", "/yomikai setup")
    said = await chat.text("alice", "/yomikai setup language ja")
    assert "日本語" in said
    problem = await chat.problem("alice", "/vote 1")
    assert "投票" in problem.text
    assert problem.locale == "ja"
    # adapters read the group's language off every reply, for the words they add themselves
    assert (await chat.say("bob", "/yomikai status")).locale == "ja"
    assert (await chat.say("bob", "/vote x")).locale == "ja"


async def test_reading_writes_nothing_and_members_are_remembered_when_they_act(
    chat: FakeChat, db: Database
) -> None:
    await chat.say("alice", "/yomikai setup")
    before = export_state(db)["tables"]
    for line in ("/yomikai status", "/candidates", "/presenters", "/summary 1", "/yomikai help"):
        await chat.say("bob", line)
    assert export_state(db)["tables"] == before  # not even a member row for bob
    await chat.say("bob", "/yomikai join")
    await chat.say("bob", "/yomikai join")
    with db.session() as session:
        names = sorted(m.display_name for m in session.exec(select(Member)))
    assert names == ["alice", "bob"]


async def test_vote_buttons_and_the_posted_ballot(chat: FakeChat) -> None:
    from bot.context import Invocation

    await chat.say("alice", "/yomikai setup papers 1")
    await chat.say("alice", "/nominate 2204.06974")
    (ballot,) = chat.only(await chat.say("alice", "/yomikai open"), CandidateList)
    core = chat.core
    posted = [sent for sent in chat.announced if sent.message == ballot]
    assert len(posted) == 1 and posted[0].kind == "post"  # the outbox sent it once
    ref = posted[0].ref
    click = Invocation("fake", chat.channel, "U-bob", "bob", "vote")
    candidate = ballot.candidates[0].candidate_id
    reply = await core.click_vote(click, ballot.round_id, candidate)
    assert (
        "counts; votes now: 1" in reply.private[0].text and reply.round_changed == ballot.round_id
    )
    post = await core.ballot_post(ballot.round_id)
    assert post is not None and post.ref == ref and post.channel_id == chat.channel
    assert post.ballot.candidates[0].votes == 1
    await chat.say("alice", "/yomikai close")
    late = await core.click_vote(click, ballot.round_id, candidate)
    assert "round that is closed" in late.private[0].text
    stray = await core.click_vote(click, 999, candidate)
    assert "round that is closed" in stray.private[0].text
    (closed,) = [(await core.ballot_post(ballot.round_id)).ballot]
    assert not closed.open and closed.candidates[0].votes == 1
    # Closing redrew the posted ballot in place: no buttons any more.
    (redrawn,) = [sent.message for sent in chat.announced if sent.kind == "update"]
    assert redrawn == closed and sent_target(chat, "update") == f"{chat.channel}/{ref}"


def sent_target(chat: FakeChat, kind: str) -> str:
    return next(sent.target for sent in chat.announced if sent.kind == kind)


async def test_a_second_round_in_a_week_is_read_at_the_following_meeting(
    chat: FakeChat, clock: ManualClock, db: Database
) -> None:
    """Issue 12: a second open and close before the meeting made a second session at the same
    time, which /presenters and /summary never showed, and /card 2 edited the first one's."""
    await chat.say("alice", "/yomikai setup papers 1")
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("alice", "/yomikai open")
    (first,) = chat.only(await chat.say("alice", "/yomikai close"), Agenda)
    await chat.say("bob", "/nominate 2204.00598")
    await chat.say("alice", "/yomikai open")
    (second,) = chat.only(await chat.say("alice", "/yomikai close"), Agenda)
    assert (second.meets_at - first.meets_at).days == 7  # the meeting after, not the same one
    with db.session() as session:
        meetings = [r.meets_at for r in session.exec(select(ReadingSession))]
    assert len(meetings) == len(set(meetings)) == 2
    # Commands mean the earlier meeting until it is over, and say which session they edit.
    said = await chat.text("alice", "/card 1 purpose: first")
    assert f"session of {first.meets_at:%Y-%m-%d}" in said
    assert "Planting Undetectable Backdoors" in await chat.text("carol", "/summary 1")
    assert "Socratic" in await chat.text("carol", f"/summary 1 {second.meets_at:%Y-%m-%d}")
    clock.current = first.meets_at + timedelta(days=1)
    said = await chat.text("alice", "/card 1 purpose: second")
    assert f"session of {second.meets_at:%Y-%m-%d}" in said
