"""Over-long and hostile text: cut to Discord's limits with an ellipsis, never able to ping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from adapters.discord import build
from adapters.discord.adapter import api_base
from adapters.discord.components import submitted_values
from adapters.discord.limits import cut, size
from bot.config import Settings
from bot.messages import CandidateLine, CandidateList, CardField, SummaryCard
from storage.db import Database
from storage.models import Paper
from tests.discord_adapter.chat import (
    DiscordChat,
    Member,
    assert_nothing_pings,
    custom_ids,
    text,
)
from tests.discord_adapter.test_discord_cycle import open_round
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord

HOSTILE = "@everyone **Free** [nitro](https://evil.example) <@&883096824070668290> @here"


def retitle(db: Database, arxiv_id: str, title: str) -> None:
    with db.session() as session:
        paper = session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).one()
        paper.title = title
        session.add(paper)


async def test_over_long_titles_and_cards_are_cut_not_refused(
    adapter, fake_discord: FakeDiscord, db: Database
) -> None:
    chat = DiscordChat(adapter, fake_discord)
    ballot = await open_round(chat)
    long_title = "Scaling " * 150 + "the end"  # 1,207 characters
    retitle(db, "2204.06974", long_title)
    (confirm,) = await chat.click("bob", ballot, custom_ids(ballot)[0])
    assert "counts" in text(confirm)
    drawn = fake_discord.messages[ballot["id"]]
    field = drawn["embeds"][0]["fields"][0]["name"]
    assert field.startswith("1. Scaling") and field.endswith("…") and size(field) <= 256
    (shown,) = await chat.run("erin", "candidates")
    label = shown["components"][0]["components"][0]["label"]
    assert label.endswith("…") and size(label) == 80

    await chat.run("ada", "yomikai-admin close")
    number = 1
    fields = {name: "w" * 999 + "!" for name in ("purpose", "results", "method", "affiliations")}
    await chat.run("ada", "yomikai-admin assign", n=number, member=Member("ada"))
    payload = chat.payload("ada", "card", n=number)
    await chat.send(payload)
    (modal,) = [c for c in fake_discord.callbacks(payload) if c["type"] == 9]
    assert modal["data"]["title"].endswith("…") and size(modal["data"]["title"]) <= 45
    (saved,) = await chat.run(
        "ada", "card", n=number, model="M" * 1000, summary="s " * 1500, **fields
    )
    assert "finished" in text(saved)

    (card,) = await chat.run("erin", "summary", n=number)
    embed = card["embeds"][0]
    assert embed["title"].endswith("…") and size(embed["title"]) == 256
    assert "attached" in embed["footer"]["text"]
    (attachment,) = card["attachments"]
    assert attachment["filename"] == "card-1.md"
    (call,) = [c for c in fake_discord.calls if "card-1.md" in c.files]
    full = call.files["card-1.md"].decode()
    assert long_title in full and "s " * 1499 in full
    assert_nothing_pings(fake_discord)


async def test_hostile_text_cannot_ping_or_format(
    adapter, fake_discord: FakeDiscord, db: Database
) -> None:
    chat = DiscordChat(adapter, fake_discord)
    await chat.run("ada", "yomikai-admin setup")
    (said,) = await chat.run("ada", "nominate", paper="2204.06974", why=HOSTILE)
    assert "@everyone" in said["content"] and "\\*\\*Free\\*\\*" in said["content"]
    retitle(db, "2204.06974", HOSTILE)
    said = await chat.run("ada", "yomikai-admin open")
    (ballot,) = [m for m in said if custom_ids(m)]
    name = ballot["embeds"][0]["fields"][0]["name"]
    assert "\\*\\*Free\\*\\*" in name and "\\[nitro](" in name
    assert_nothing_pings(fake_discord)


def ballot_of(count: int, round_id: int = 999) -> CandidateList:
    lines = tuple(
        CandidateLine(
            n, 5000 + n, f"2204.{n:05d}", f"Paper {n} " + "x" * 200, "https://a.b", n, 1, 0
        )
        for n in range(1, count + 1)
    )
    return CandidateList("en", round_id, lines)


async def test_big_ballots_get_menus(adapter, fake_discord: FakeDiscord, core) -> None:
    chat = DiscordChat(adapter, fake_discord)
    posted_ballot = await open_round(chat)
    round_id = int(custom_ids(posted_ballot)[0].split(":")[1])
    post = await core.ballot_post(round_id)
    real = post.ballot.candidates
    big = CandidateList("en", round_id, real + ballot_of(27).candidates)
    ref = await adapter.post(str(CHANNEL_ID), big)
    posted = fake_discord.messages[ref]
    rows = posted["components"]
    assert [len(r["components"][0]["options"]) for r in rows] == [25, 5]
    assert custom_ids(posted) == [f"votes:{round_id}:0", f"votes:{round_id}:1"]
    assert len(posted["embeds"][0]["description"].splitlines()) == 30
    # A choice in a menu is a vote, like a click on a button.
    chosen = str(real[1].candidate_id)
    (answer,) = await chat.click("bob", posted, f"votes:{round_id}:0", values=[chosen])
    assert "Your vote for 2" in text(answer)

    ref = await adapter.post(str(CHANNEL_ID), ballot_of(130))
    posted = fake_discord.messages[ref]
    assert len(posted["components"]) == 5
    assert "after 125" in posted["embeds"][0]["footer"]["text"]
    assert_nothing_pings(fake_discord)


async def test_post_and_update_for_the_scheduler(adapter, fake_discord: FakeDiscord) -> None:
    when = datetime(2026, 12, 2, 17, tzinfo=UTC)
    card = SummaryCard(
        "ja",
        2,
        when,
        "2204.00598",
        HOSTILE,
        "https://arxiv.org/abs/2204.00598",
        "",
        "",
        tuple(
            CardField(k, "") for k in ("purpose", "results", "method", "model_name", "affiliations")
        ),
        None,
    )
    ref = await adapter.post(str(CHANNEL_ID), card)
    posted = fake_discord.messages[ref]
    assert "目的" in text(posted) and "（未記入）" in text(posted)
    await adapter.update(str(CHANNEL_ID), ref, ballot_of(2))
    assert custom_ids(fake_discord.messages[ref]) == ["vote:999:5001", "vote:999:5002"]
    assert_nothing_pings(fake_discord)


def test_cut_counts_like_discord() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcdef", 4) == "abc…"
    assert size("😀") == 2 and size(cut("😀" * 10, 5)) <= 5
    assert cut("ab\\*cd", 4) == "ab…"  # never an escape left dangling


def test_api_base() -> None:
    assert api_base("http://nirn:8080") == "http://nirn:8080/api/v10"
    assert api_base("http://127.0.0.1:9/api/v10/") == "http://127.0.0.1:9/api/v10"


def test_form_values_in_rows_and_labels() -> None:
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": "purpose", "value": "p"}]},
        {"type": 18, "component": {"type": 4, "custom_id": "method", "value": "m"}},
    ]
    assert submitted_values(rows) == {"purpose": "p", "method": "m"}


def test_build_reads_the_settings(core, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISCORD_BOT_TOKEN", "DISCORD_GUILD_ID", "DISCORD_API_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(
        _env_file=None,
        DISCORD_BOT_TOKEN="t0ken",
        DISCORD_GUILD_ID="883073851020410880",
        DISCORD_API_URL="http://nirn:8080",
    )
    adapter = build(settings, core)
    assert adapter.platform == "discord" and adapter.api_url == "http://nirn:8080/api/v10"
    assert adapter.client.guild_id == 883073851020410880
    with pytest.raises(ValueError, match="DISCORD_BOT_TOKEN"):
        build(Settings(_env_file=None), core)
