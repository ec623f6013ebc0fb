"""Property test: hostile text in every text option, through discord.py's interaction path
against the fake Discord: always answered, nothing raw, nothing that pings."""

from __future__ import annotations

from typing import Any

import pytest
from discord import Colour
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.discord_adapter.chat import DiscordChat, assert_nothing_pings, ephemeral
from tests.discord_adapter.chat import text as discord_text
from tests.discord_adapter.conftest import MakeAdapter
from tests.fakes.discord_api import FakeDiscord
from tests.hostile import RAW, encodable, examples, hostile_text
from tests.reliability_report import recorder

RED = Colour.red().value


DISCORD_OPTIONS = (
    ("nominate", "paper"),
    ("nominate", "why"),
    ("yomikai away", "date"),
    ("summary", "date"),
    ("card", "purpose"),
    ("card", "model"),
    ("yomikai-admin setup", "name"),
    ("yomikai-admin setup", "timezone"),
    ("yomikai-admin setup", "time"),
    ("yomikai-admin schedule", "text"),
    ("yomikai-admin export", "date"),
)


@pytest.fixture
async def discord_week(make_adapter: MakeAdapter, fake_discord: FakeDiscord) -> DiscordChat:
    chat = DiscordChat(await make_adapter(), fake_discord)
    await chat.run("ada", "yomikai-admin setup", papers=1)
    await chat.run("ada", "yomikai join")
    for paper in ("2204.06974", "2204.00598"):
        await chat.run("ada", "nominate", paper=paper)
    await chat.run("ada", "yomikai-admin open")
    await chat.run("ada", "yomikai-admin close")
    await chat.run("ada", "nominate", paper="2203.14465")
    await chat.run("ada", "yomikai-admin open")
    return chat


@examples(150)
@given(where=st.sampled_from(DISCORD_OPTIONS), hostile=hostile_text())
async def test_any_text_through_discord_interactions(
    discord_week: DiscordChat, where: tuple[str, str], hostile: tuple[str, str]
) -> None:
    label, typed = hostile
    assume(encodable(typed) and typed)  # (Discord sends no empty option)
    path, option = where
    values: dict[str, Any] = {option: typed[:6000]}
    if path in ("card", "summary"):
        values["n"] = 1
    if option == "why":  # (Discord sends no command without its required options)
        values["paper"] = "2204.06974"
    said = await discord_week.run("ada", path, **values)
    assert said, "every interaction is answered"
    for message in said:
        shown = discord_text(message)
        assert not RAW.search(shown) and "went wrong on my side" not in shown
    assert_nothing_pings(discord_week.fake)
    refused = all(ephemeral(m) for m in said) and any(
        e.get("color") == RED for m in said for e in m.get("embeds") or []
    )
    recorder("Discord interactions").record(label, "refused" if refused else "answered")
