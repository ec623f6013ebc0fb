"""Slack answering badly: every acknowledged request still has its effect seen, exactly once.

Each test is a row of issue 12's table, through the real adapter in HTTP mode against the fake
Slack: the fault is injected in the fake, the clock moved past the worker's backoff, and what
the channel shows and what is stored are checked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Nomination, OutboxPost, Vote
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import (
    SlackSide,
    ballot_posted,
    buttons,
    ephemerals_to,
    posted,
    tallies,
    user_id,
)

pytestmark = pytest.mark.both_engines


async def later(slack: SlackSide, clock: ManualClock, seconds: float = 600) -> None:
    """Time passes (beyond any backoff) and the delivery worker makes a pass."""
    clock.advance(seconds=seconds)
    await slack.adapter.core.delivery.pass_once()
    await slack.adapter.settle()


async def eventually(slack: SlackSide, clock: ManualClock, check: Callable[[], object]) -> None:
    """Let time pass, pass after pass, until ``check()`` holds (a bounded number of passes)."""
    for _ in range(40):
        if check():
            return
        await later(slack, clock)
        await asyncio.sleep(0.02)
    raise AssertionError("the outbox never delivered it")


async def opened_ballot(slack: SlackSide) -> tuple[list[str], str]:
    await posted(slack, "alice", "/yomikai setup")
    await posted(slack, "alice", "/nominate 2204.06974")
    await posted(slack, "bob", "/nominate 2204.00598")
    await slack.command("alice", "/yomikai open")
    ballot = await ballot_posted(slack.fake)
    return buttons(ballot), str(ballot.result["ts"])


def ballots(fake: FakeSlack) -> list[dict]:
    return [m for m in fake.posts() if any(b.get("accessory") for b in m.get("blocks") or [])]


async def test_a_ballot_slack_refused_with_500_is_posted_later_once(
    slack: SlackSide, clock: ManualClock, db: Database
) -> None:
    fake = slack.fake
    await posted(slack, "alice", "/yomikai setup")
    await posted(slack, "alice", "/nominate 2204.06974")
    fake.fail("chat.postMessage", "500")
    status, _, _ = await slack.command("alice", "/yomikai open")
    assert status == 200
    await slack.adapter.settle()
    assert ballots(fake) == []  # Slack refused it ...
    with db.session() as session:
        row = session.exec(select(OutboxPost).where(OutboxPost.key == "ballot:1")).one()
        assert row.state == "pending" and row.attempts == 1 and "500" in row.error
    await eventually(slack, clock, lambda: ballots(fake))  # ... the worker posts it later
    (ballot,) = ballots(fake)
    assert len(buttons(fake.to("chat.postMessage")[-1])) == 1
    # The ballot works: its reference was stored, so a click redraws it in place.
    await slack.click("bob", buttons(fake.to("chat.postMessage")[-1])[0], ballot["ts"])
    await slack.adapter.settle()
    assert tallies(fake.to("chat.update")[-1]) == [1]
    await later(slack, clock)
    assert len(ballots(fake)) == 1  # and it never goes out twice


@pytest.mark.parametrize("fault", ["500", "429"])
async def test_a_nomination_announced_through_four_failures(
    slack: SlackSide, clock: ManualClock, db: Database, fault: str
) -> None:
    fake = slack.fake
    await posted(slack, "alice", "/yomikai setup")
    fake.fail("chat.postMessage", *[fault] * 4)
    await slack.command("bob", "/nominate 2204.06974")
    await slack.adapter.settle()

    def announced() -> list[dict]:
        return [m for m in fake.posts() if "bob nominated" in (m.get("text") or "")]

    await eventually(slack, clock, announced)
    await later(slack, clock)
    assert len(announced()) == 1
    with db.session() as session:
        assert len(session.exec(select(Nomination)).all()) == 1


async def test_a_failed_redraw_of_the_last_click_is_drawn_again(
    slack_factory, db: Database
) -> None:
    slack = await slack_factory(redraw_interval=0.05)
    fake = slack.fake
    actions, ts = await opened_ballot(slack)
    fake.fail("chat.update", "500", "429", "429", "429", "429")
    await slack.click("carol", actions[1], ts)  # the last click of the round
    await slack.adapter.settle()
    assert tallies(fake.to("chat.update")[-1]) == [0, 1]
    assert len(fake.to("chat.update")) >= 3  # the 500 and the 429s were drawn through


async def test_a_confirmation_the_response_url_refused_is_sent_again(slack: SlackSide) -> None:
    fake = slack.fake
    actions, ts = await opened_ballot(slack)
    fake.fail("response_url", "500")
    await slack.click("carol", actions[0], ts)
    await slack.adapter.settle()
    answers = [c.args.get("text") or "" for c in ephemerals_to(fake, "carol")]
    assert len(answers) == 2 and answers[0] == answers[1] and "votes now: 1" in answers[1]


@pytest.mark.parametrize("stamp", ["not-a-number", "1.5e9", "", "１７４９"])
async def test_a_garbled_timestamp_is_refused_with_401(slack: SlackSide, stamp: str) -> None:
    body = slack.command_body("alice", "/yomikai setup")
    status, _, _ = await slack.send(body, headers={"X-Slack-Request-Timestamp": stamp})
    assert status == 401
    assert slack.fake.to("chat.postMessage") == []


async def test_clicks_while_the_database_is_locked_are_never_lost_silently(
    slack: SlackSide, db: Database, engine: str
) -> None:
    """Another connection holds SQLite's write lock for 5 s: each click either counts or its
    voter is told that it did not go through. (PostgreSQL: test_postgres_restart.py.)"""
    if engine != "sqlite":
        pytest.skip("SQLite's file lock; PostgreSQL's outage is a restart")
    actions, ts = await opened_ballot(slack)
    path = Path(str(db.engine.url.database))
    holding = threading.Event()

    def hold_lock() -> None:
        blocker = sqlite3.connect(path, timeout=1, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(5)
        blocker.execute("COMMIT")
        blocker.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    holding.wait()
    voters = [f"voter{n}" for n in range(10)]
    for voter in voters:
        status, _, took = await slack.click(voter, actions[0], ts)
        assert status == 200 and took < 3.0  # acknowledged within Slack's 3 s
    thread.join()
    await slack.adapter.settle()
    with db.session() as session:
        counted = {v.member_id for v in session.exec(select(Vote))}
        members = {m: n for m, n in _members(session)}
    for voter in voters:
        told = " ".join(c.args.get("text") or "" for c in ephemerals_to(slack.fake, voter))
        stored = user_id(voter) in {members.get(m) for m in counted}
        assert stored or "did not go through" in told, voter


def _members(session) -> list[tuple[int, str]]:
    from storage.models import Member

    return [(m.id, m.user_id) for m in session.exec(select(Member))]


async def test_verbose_logs_name_no_refused_body(
    slack: SlackSide, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = slack.command_body("mallory", "/yomikai setup")
    status, _, _ = await slack.send(body, sign_with="not-the-signing-secret")
    assert status == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "response_url" not in logged and "mallory" not in logged
    assert json.dumps(body)[:40] not in logged
