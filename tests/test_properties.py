"""Property tests: any text to any command, through the core on both engines, the signed Slack
HTTP endpoint and Discord's interaction path.

Whatever arrives: no exception leaves a handler and no request gets a 5xx; every answer is a
notice or a clear problem; a refusal (and every read-only command) changes nothing stored; and
nothing the bot says carries a control character or can ping anyone. The examples are
derandomized (a fixed seed per test, no example database), so CI runs the same inputs every
time; ``tests/reliability_report.py`` turns what was tried into ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.render import render as discord_render
from adapters.slack.render import render as slack_render
from bot.messages import DeckPost, Message, Problem
from bot.registry import COMMANDS, resolve
from storage.db import Database
from tests.fakes.chat import FakeChat
from tests.hostile import KNOWN, RAW, command_lines, examples, filled, hostile_text
from tests.reliability_report import recorder
from tests.test_bad_input import snapshot

PATHS = tuple(spec.path for spec in COMMANDS)


def strings(value: object) -> list[str]:
    """Every string inside a message (its dataclass fields, recursively)."""
    if isinstance(value, str):
        return [value]
    if is_dataclass(value) and not isinstance(value, type):
        return [s for f in fields(value) for s in strings(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list | tuple | frozenset | set):
        return [s for item in value for s in strings(item)]
    return []


def check_said(message: Message) -> None:
    """What the core says: clean text, no internal error, and inert on both platforms."""
    for text in strings(message):
        assert not RAW.search(text), repr(text)
    if isinstance(message, Problem):
        assert "went wrong on my side" not in message.text, message.text
    if isinstance(message, DeckPost):
        return  # (made into a file by the delivery worker; never drawn)
    slack = slack_render(message)
    drawn = json.dumps(slack.blocks, ensure_ascii=False) + slack.text
    assert "<!" not in drawn, drawn[:300]
    assert set(re.findall(r"<@([^>|]+)", drawn)) <= KNOWN, drawn[:300]
    # Discord shows "@everyone" literally, and no message may ping: no mention is allowed.
    discord = discord_render(message).send_kwargs()
    assert discord["allowed_mentions"].to_dict() == {"parse": []}


@pytest.mark.both_engines
@examples(300)
@given(line=command_lines(), user=st.sampled_from(("alice", "carol")), hostile=hostile_text())
async def test_any_text_to_any_command_through_the_core(
    two_rounds: FakeChat,
    db: Database,
    engine: str,
    line: tuple[str, str],
    user: str,
    hostile: tuple[str, str],
) -> None:
    (path, template), (label, typed) = line, hostile
    spec, _ = resolve(*path.split(" ", 1)) if " " in path else resolve(path, "")
    week = two_rounds
    before, posted = snapshot(db), len(week.announced)
    reply = await week.say(user, f"/{path} {filled(template, typed)}")
    said = (*reply.public, *reply.private, *(s.message for s in week.announced[posted:]))
    for message in said:
        check_said(message)
    refused = any(isinstance(m, Problem) for m in reply.private) and not reply.public
    if refused or spec.read_only:
        assert snapshot(db) == before, f"/{path} {typed!r} changed what is stored"
    assert said, "every command answers"
    name = "core, SQLite" if engine == "sqlite" else "core, PostgreSQL"
    recorder(name).record(label, "refused" if refused else "answered")
