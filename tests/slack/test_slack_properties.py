"""Property test: any text to any command through the signed Slack HTTP endpoint (the real
slack-bolt app on 127.0.0.1): always acknowledged in time, never a 5xx, nothing that pings."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.hostile import RAW, command_lines, encodable, examples, filled, hostile_text
from tests.reliability_report import recorder
from tests.slack.slack_side import SlackSide, user_id

KNOWN = {user_id(name) for name in ("alice", "bob", "carol")}
"""The members of the group: the only mentions the bot may make (a presenter's)."""


@pytest.fixture
async def slack_week(slack: SlackSide) -> SlackSide:
    for user, line in (
        ("alice", "/yomikai setup papers 1"),
        ("bob", "/yomikai join"),
        ("alice", "/nominate 2204.06974"),
        ("alice", "/nominate 2204.00598"),
        ("alice", "/yomikai open"),
        ("alice", "/yomikai close"),
        ("alice", "/nominate 2203.14465"),
        ("alice", "/yomikai open"),
    ):
        await slack.command(user, line)
        await slack.adapter.settle()
    return slack


@examples(150)
@given(line=command_lines(), user=st.sampled_from(("alice", "carol")), hostile=hostile_text())
async def test_any_text_through_the_signed_slack_endpoint(
    slack_week: SlackSide, line: tuple[str, str], user: str, hostile: tuple[str, str]
) -> None:
    (path, template), (label, typed) = line, hostile
    assume(encodable(typed))
    fake = slack_week.fake
    command, _, sub = path.partition(" ")
    calls = len(fake.calls)
    typed_line = f"/{command} {sub} {filled(template, typed)}".strip()
    status, body, took = await slack_week.command(user, typed_line)
    assert status == 200 and body == "" and took < 3.0  # acknowledged, in time, never a 5xx
    await slack_week.adapter.settle()
    made = fake.calls[calls:]
    everything = "".join(call.text() for call in made)
    assert not RAW.search(everything)
    assert "<!" not in everything and set(re.findall(r"<@([^>|]+)", everything)) <= KNOWN
    assert "went wrong on my side" not in everything
    answers = [c for c in made if c.method in ("response_url", "chat.postEphemeral")]
    refused = any(":warning:" in c.text() for c in answers)
    recorder("Slack HTTP, signed").record(label, "refused" if refused else "answered")
