"""Slack's side of the wire: signatures, stale requests, retries, the 3-second ack, rate limits."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from adapters.slack import app as slack_app
from storage.db import Database
from storage.models import Group, Nomination, Round, Vote
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import (
    FIXTURES,
    SlackFactory,
    SlackSide,
    ballot_posted,
    buttons,
    ephemerals_to,
    posted,
    signature,
)

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def chat_calls(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.calls if c.method != "auth.test"]


def test_the_fixture_test_vector() -> None:
    body = (FIXTURES / "slash_command.txt").read_text(encoding="utf-8")
    expected = "v0=74d6a172ed0dea27da6a9a166246c630109724e2c91041e4f76d3647c3454445"
    assert signature(body, 1749747912) == expected


async def test_bad_signature_is_refused(slack: SlackSide, db: Database) -> None:
    body = slack.command_body("mallory", "/yomikai setup")
    status, _, _ = await slack.send(body, sign_with="not-the-signing-secret")
    assert status == 401
    tampered = body.replace("mallory", "alice")
    stamp = int(time.time())
    headers = {"X-Slack-Signature": signature(body, stamp)}
    status, _, _ = await slack.send(tampered, timestamp=stamp, headers=headers)
    assert status == 401
    await slack.adapter.settle()
    assert chat_calls(slack.fake) == []
    with db.session() as session:
        assert session.exec(select(Group)).all() == []


async def test_stale_and_future_timestamps_are_refused(slack: SlackSide, db: Database) -> None:
    # The recorded request with its valid signature, replayed long after it was sent.
    recorded = (FIXTURES / "slash_command.txt").read_text(encoding="utf-8")
    status, _, _ = await slack.send(recorded, timestamp=1749747912)
    assert status == 401
    body = slack.command_body("alice", "/yomikai setup")
    for skew in (-301, 301):
        status, _, _ = await slack.send(body, timestamp=int(time.time()) + skew)
        assert status == 401
    status, _, _ = await slack.send(body, timestamp=int(time.time()) - 200)
    assert status == 200
    await slack.fake.wait_calls("chat.postMessage")


async def test_retried_requests_never_double(slack: SlackSide, db: Database) -> None:
    fake = slack.fake
    await posted(slack, "alice", "/yomikai setup")
    # A nomination Slack sends twice (it gave up waiting): one nomination, one announcement.
    body = slack.command_body("bob", "/nominate 2204.06974")
    assert (await slack.send(body))[0] == 200
    assert (await slack.send(body, headers=RETRY))[0] == 200
    await fake.wait_calls("chat.postMessage", 2)
    # Opening voting, sent twice: one ballot, and no "a round is already open" for alice.
    body = slack.command_body("alice", "/yomikai open")
    await slack.send(body)
    await slack.send(body, headers=RETRY)
    ballot = await ballot_posted(fake)
    # A click sent twice must not take the vote back.
    click = slack.click_body("carol", buttons(ballot)[0], ballot.result["ts"])
    await slack.send(click)
    await slack.send(click, headers=RETRY | {"X-Slack-Retry-Num": "2"})
    await fake.wait_for(lambda: ephemerals_to(fake, "carol"))
    await slack.adapter.settle()
    assert len(fake.to("chat.postMessage")) == 3  # setup, nomination, ballot
    assert [c.text() for c in fake.to("response_url") if "already" in c.text()] == []
    assert len(ephemerals_to(fake, "carol")) == 1
    with db.session() as session:
        assert len(session.exec(select(Nomination)).all()) == 1
        assert len(session.exec(select(Round)).all()) == 1
        assert len(session.exec(select(Vote)).all()) == 1


async def test_slow_arxiv_lookups_come_after_the_ack(slack: SlackSide, fake_arxiv) -> None:
    await posted(slack, "alice", "/yomikai setup")
    fake_arxiv.mode = "hang"
    fake_arxiv.hang_seconds = 0.6
    status, body, took = await slack.command("bob", "/nominate 2204.06974")
    assert (status, body) == (200, "") and took < 0.5
    answer = await slack.fake.wait_for(lambda: ephemerals_to(slack.fake, "bob"), timeout=10)
    assert "arXiv is not answering" in answer[0].text()


async def test_rate_limited_post_is_retried_after_retry_after(slack: SlackSide) -> None:
    slack.fake.fail("chat.postMessage", "429")
    await slack.command("alice", "/yomikai setup")
    first, second = await slack.fake.wait_calls("chat.postMessage", 2, timeout=10)
    assert second.time - first.time >= 1.0  # Retry-After: 1
    assert first.args == second.args


async def test_connection_errors_are_retried_boundedly(
    slack_factory: SlackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_app, "CONNECTION_BACKOFF", 0.02)
    slack = await slack_factory()
    fake = slack.fake
    fake.fail("chat.postMessage", "drop")
    await slack.command("alice", "/yomikai setup")
    await fake.wait_calls("chat.postMessage", 2, timeout=10)
    await slack.adapter.settle()
    assert len(fake.to("chat.postMessage")) == 2
    # Slack unreachable for good: a few tries, then the bot gives up (and keeps running).
    fake.fail("chat.postMessage", *["drop"] * 10)
    await slack.command("alice", "/yomikai join")
    await slack.adapter.settle()
    assert len(fake.to("chat.postMessage")) == 2 + 3
    fake.failures.clear()
    await posted(slack, "bob", "/yomikai join")


async def test_not_invited_to_a_private_channel(slack: SlackSide) -> None:
    slack.fake.fail("chat.postMessage", "not_in_channel")
    await slack.command("alice", "/yomikai setup")
    answer = await slack.fake.wait_for(lambda: ephemerals_to(slack.fake, "alice"))
    assert "Invite me" in answer[0].text()
