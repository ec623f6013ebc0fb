"""Restarts, bursts of clicks, closed DMs and rate limits, against the fake Discord."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime

import pytest

from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.messages import Reminder
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from tests.discord_adapter.chat import (
    DiscordChat,
    Member,
    assert_nothing_pings,
    custom_ids,
    ephemeral,
    text,
)
from tests.discord_adapter.conftest import MakeAdapter
from tests.discord_adapter.test_discord_cycle import open_round
from tests.fakes.chat import ManualClock
from tests.fakes.discord_api import CHANNEL_ID, USERS, FakeDiscord

BALLOT_EDITS = r"/channels/\d+/messages/\d+"


async def test_clicks_and_forms_work_after_a_restart(
    make_adapter: MakeAdapter, fake_discord: FakeDiscord
) -> None:
    first = await make_adapter()
    chat = DiscordChat(first, fake_discord)
    ballot = await open_round(chat)
    await first.stop()

    # A new process: nothing in memory knows the ballot or the form, only their custom ids.
    chat = DiscordChat(await make_adapter(), fake_discord)
    (confirm,) = await chat.click("erin", ballot, custom_ids(ballot)[2])
    assert ephemeral(confirm) and "Your vote for 3" in text(confirm)
    drawn = fake_discord.messages[ballot["id"]]
    assert "votes: 1" in drawn["embeds"][0]["fields"][2]["value"]

    await chat.run("ada", "yomikai-admin close")
    await chat.run("ada", "yomikai-admin assign", n=1, member=Member("ada"))
    payload = chat.payload("ada", "card", n=1)
    await chat.send(payload)
    (modal,) = [c for c in fake_discord.callbacks(payload) if c["type"] == 9]
    chat = DiscordChat(await make_adapter(), fake_discord)
    (saved,) = await chat.submit("ada", modal["data"]["custom_id"], {"purpose": "Why"})
    assert "Card 1 saved" in text(saved)


async def test_a_burst_of_clicks_is_folded_into_few_edits(
    make_adapter: MakeAdapter, fake_discord: FakeDiscord, core: Yomikai
) -> None:
    adapter = await make_adapter(redraw_interval=1.0)
    chat = DiscordChat(adapter, fake_discord)
    ballot = await open_round(chat)
    before = len(fake_discord.calls_to("PATCH", BALLOT_EDITS))
    buttons = custom_ids(ballot)
    clicks = [fake_discord.click(ballot, buttons[i % 3], user=f"member{i}") for i in range(24)]
    started = time.monotonic()
    for payload in clicks:  # all arrive before the first is answered
        adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    await fake_discord.wait_until(lambda: all(fake_discord.said(p) for p in clicks), 10)
    await adapter.responder.settle()
    await fake_discord.wait_until(lambda: not adapter.redraw.pending, 10)
    elapsed = time.monotonic() - started

    edits = fake_discord.calls_to("PATCH", BALLOT_EDITS)[before:]
    answers = [c.at for p in clicks for c in fake_discord.calls if p["token"] in c.path]
    span = max(answers) - min(answers)  # how long the 24 clicks took to be answered
    # The first click is drawn at once, the rest folded: at most one edit per second.
    assert 2 <= len(edits) <= 2 + int(span), (len(edits), span, elapsed)
    assert all(b.at - a.at >= 0.9 for a, b in itertools.pairwise(edits))
    final = edits[-1].body["embeds"][0]["fields"]
    assert [f["value"].split(" · ")[1] for f in final] == ["votes: 8"] * 3
    assert all("counts" in text(fake_discord.said(p)[0]) for p in clicks)
    post = await core.ballot_post(int(buttons[0].split(":")[1]))
    assert [c.votes for c in post.ballot.candidates] == [8, 8, 8]


async def test_reminders_fall_back_to_the_channel_when_dms_are_closed(
    adapter, fake_discord: FakeDiscord
) -> None:
    when = datetime(2026, 12, 2, 17, tzinfo=UTC)
    reminder = Reminder("en", 2, "STaR", "https://arxiv.org/abs/2203.14465", when, ("method",))
    bob, carol = (str(USERS[name][0]) for name in ("bob", "carol"))
    ref = await adapter.dm(bob, reminder)
    (dm,) = [m for m in fake_discord.messages.values() if m["id"] == ref]
    assert dm["channel_id"] == fake_discord.dm_channels[bob] and "Method" in text(dm)

    fake_discord.closed_dms.add(carol)
    assert await adapter.dm(carol, reminder) is None  # no channel known for carol yet
    chat = DiscordChat(adapter, fake_discord)
    await chat.run("carol", "yomikai help")  # carol uses Yomikai in the group's channel
    ref = await adapter.dm(carol, reminder)
    assert ref is not None
    posted = fake_discord.messages[ref]
    assert posted["channel_id"] == str(CHANNEL_ID)
    assert posted["content"].startswith(f"<@{carol}>") and "Method" in text(posted)
    (sent,) = [
        c
        for c in fake_discord.calls_to("POST", r"/channels/\d+/messages")
        if (c.body.get("content") or "").startswith("<@")
    ]
    # Only the member the reminder is for may be notified; nothing else in it can ping.
    mentions = sent.body["allowed_mentions"]
    assert mentions["parse"] == [] and mentions["users"] == [int(carol)]
    ref = await adapter.dm(carol, reminder, fallback_channel_id="883260727220109999")
    assert fake_discord.messages[ref]["channel_id"] == "883260727220109999"


async def test_rate_limits_are_waited_out(adapter, fake_discord: FakeDiscord) -> None:
    fake_discord.rate_limit("POST", rf"/channels/{CHANNEL_ID}/messages", retry_after=0.2)
    started = time.monotonic()
    ref = await adapter.post(
        str(CHANNEL_ID), Reminder("en", 1, "T", "https://a.b", datetime.now(UTC), ())
    )
    assert time.monotonic() - started >= 0.2
    posts = fake_discord.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert len(posts) == 2 and ref in fake_discord.messages

    # A ballot edit that meets a 429 is retried, and the tally still shows.
    chat = DiscordChat(adapter, fake_discord)
    ballot = await open_round(chat)
    fake_discord.rate_limit("PATCH", BALLOT_EDITS, retry_after=0.1)
    fake_discord.rate_limit("POST", r"/interactions/\d+/[^/]+/callback", retry_after=0.1)
    payload = fake_discord.click(ballot, custom_ids(ballot)[0], user="bob")
    (confirm,) = await chat.send(payload)
    assert "counts" in text(confirm)
    token = payload["token"]
    assert len(fake_discord.calls_to("POST", rf"/interactions/\d+/{token}/callback")) == 2
    assert len(fake_discord.calls_to("PATCH", BALLOT_EDITS)) == 2
    assert "votes: 1" in fake_discord.messages[ballot["id"]]["embeds"][0]["fields"][0]["value"]
    assert_nothing_pings(fake_discord)


@pytest.mark.both_engines
async def test_replicas_answer_each_interaction_once(
    make_adapter: MakeAdapter,
    fake_discord: FakeDiscord,
    core: Yomikai,
    database_url: str,
    arxiv: ArxivSource,
    clock: ManualClock,
) -> None:
    """Two replicas of one bot (each its own core and session, one database): Discord sends every
    interaction to both sessions; exactly one answers it, and a click counts once."""
    other_db = Database(database_url)
    services = Services(catalog=PaperCatalog(other_db, arxiv), defaults=GroupDefaults())
    replicas = [await make_adapter(), await make_adapter(on=Yomikai(other_db, services, clock))]
    chat = DiscordChat(replicas[0], fake_discord)

    async def through_gateway(payload: dict) -> list[dict]:
        """Send one interaction to every session; wait until both replicas got it and settled."""
        before = set(fake_discord.messages)
        arrivals = [
            asyncio.ensure_future(
                replica.client.wait_for(
                    "interaction", check=lambda i: str(i.id) == payload["id"], timeout=5
                )
            )
            for replica in replicas
        ]
        await fake_discord.dispatch("INTERACTION_CREATE", payload)
        await asyncio.gather(*arrivals)
        await fake_discord.wait_until(lambda: fake_discord.callbacks(payload))
        for replica in replicas:
            await replica.responder.settle()
            await replica.redraw.drain(hurry=True)
        return fake_discord.posted_since(before) + fake_discord.said(payload)

    (created,) = await through_gateway(chat.payload("ada", "yomikai-admin setup"))
    assert "now has a reading group" in text(created)
    for user, paper in (("ada", "2204.06974"), ("bob", "2204.00598")):
        await through_gateway(chat.payload(user, "nominate", paper=paper))
    opened = await through_gateway(chat.payload("ada", "yomikai-admin open"))
    (ballot,) = [m for m in opened if custom_ids(m)]
    click = fake_discord.click(ballot, custom_ids(ballot)[0], user="bob")
    (confirm,) = await through_gateway(click)
    assert "votes now: 1" in text(confirm)
    typing = [{"name": "n", "type": 4, "value": "", "focused": True}]
    suggest = fake_discord.command("vote", typing, user="carol", kind=4)
    await through_gateway(suggest)
    (choices,) = fake_discord.callbacks(suggest)
    assert choices["type"] == 8 and len(choices["data"]["choices"]) == 2

    # One answer per interaction, and the stored state saw each command once (a replica that
    # ran the click too would have toggled the vote off again).
    await asyncio.sleep(0.3)  # room for a late second answer to show up, were there one
    (shown,) = await chat.run("carol", "candidates")
    assert "votes: 1" in shown["embeds"][0]["fields"][0]["value"]
    nominated = fake_discord.channel_messages()
    assert sum("nominated" in text(m) for m in nominated) == 2
    assert_nothing_pings(fake_discord)  # among others: nothing was acknowledged twice
    other_db.dispose()
