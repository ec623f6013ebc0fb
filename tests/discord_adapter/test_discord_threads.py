"""Around the meeting on Discord: a thread started from each card (once, also with two replicas),
the presenter mentioned there alone, messages in it kept as questions, and the session as a Guild
Scheduled Event (made once, updated, refused without *Manage Events* and said so once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.messages import Notice, Person, ThreadOpening
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.models import Member, Question, ReadingSession, Slot
from tests.discord_adapter.chat import DiscordChat, custom_ids, ephemeral, text
from tests.discord_adapter.conftest import MakeAdapter
from tests.fakes.chat import ManualClock
from tests.fakes.discord_api import CHANNEL_ID, GUILD_ID, FakeDiscord, user_ids

pytestmark = pytest.mark.both_engines

CARD = {
    "purpose": "detect backdoors",
    "results": "undetectable",
    "method": "signatures",
    "model": "none",
    "affiliations": "MIT",
}
EVENTS = rf"/guilds/{GUILD_ID}/scheduled-events"


async def chosen(chat: DiscordChat, db: Database) -> list[str]:
    """Two papers chosen for the next session (ada organizes; bob and carol present)."""
    await chat.run("ada", "yomikai-admin setup", timezone="Europe/Berlin", papers=2)
    for user in ("bob", "carol"):
        await chat.run(user, "yomikai join")
    await chat.run("ada", "nominate", paper="2204.06974")
    await chat.run("bob", "nominate", paper="2204.00598")
    said = await chat.run("ada", "yomikai-admin open")
    (ballot,) = [m for m in said if custom_ids(m)]
    await chat.click("bob", ballot, custom_ids(ballot)[0])
    await chat.run("ada", "yomikai-admin close")
    with db.session() as session:
        names = {m.id: m.user_id for m in session.exec(select(Member)).all()}
        slots = session.exec(select(Slot).order_by(Slot.number)).all()
        return [names[slot.presenter_id] for slot in slots if slot.presenter_id]


async def at_the_meeting(chat: DiscordChat, db: Database, clock: ManualClock) -> list[str]:
    """Both cards finished by their presenters, the clock at the meeting; the presenters' ids."""
    presenters = await chosen(chat, db)
    by_id = {str(user_ids(name)[0]): name for name in ("ada", "bob", "carol")}
    for number, user_id in enumerate(presenters, 1):
        await chat.run(by_id[user_id], "card", n=number, **CARD)
    with db.session() as session:
        clock.current = session.exec(select(ReadingSession)).one().meets_at
    return presenters


def openings(fake: FakeDiscord) -> dict[str, list[dict[str, Any]]]:
    """Thread id → the bot's messages posted in it."""
    return {
        thread: [m for m in fake.messages.values() if m["channel_id"] == thread]
        for thread in fake.threads
    }


async def test_a_thread_per_card_and_its_questions(
    make_adapter: MakeAdapter,
    fake_discord: FakeDiscord,
    core: Yomikai,
    db: Database,
    database_url: str,
    arxiv: ArxivSource,
    clock: ManualClock,
) -> None:
    other_db = Database(database_url)
    services = Services(catalog=PaperCatalog(other_db, arxiv), defaults=GroupDefaults())
    first = await make_adapter()
    await make_adapter(on=Yomikai(other_db, services, clock))  # a second replica
    chat = DiscordChat(first, fake_discord)
    presenters = await at_the_meeting(chat, db, clock)
    posted = await chat.run("ada", "yomikai-admin meet")
    cards = [m for m in posted if m["embeds"] and "Card" in text(m)]
    assert len(cards) == 2
    await fake_discord.wait_until(
        lambda: all(openings(fake_discord).values()) and len(fake_discord.threads) == 2
    )

    # Each thread starts from its card's message, and names that card's presenter alone.
    assert set(fake_discord.threads) == {card["id"] for card in cards}
    for number, card in enumerate(cards, 1):
        (opening,) = openings(fake_discord)[card["id"]]
        presenter = presenters[number - 1]
        assert f"<@{presenter}>" in opening["content"]
        assert opening["content"].count("<@") == 1
        (call,) = [c for c in fake_discord.calls_to("POST", rf"/channels/{card['id']}/messages")]
        assert call.body["allowed_mentions"] == {"parse": [], "users": [int(presenter)]}

    # A member writes in thread 1: both replicas hear it; it is kept once, and never run.
    thread = cards[0]["id"]
    message = fake_discord.thread_message(thread, "erin", "/yomikai-admin close — why LoRA?")
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    elsewhere = fake_discord.thread_message(str(CHANNEL_ID), "erin", "lunch?")
    await fake_discord.dispatch("MESSAGE_CREATE", elsewhere)

    def kept() -> list[Question]:
        with db.session() as session:
            return list(session.exec(select(Question)).all())

    await fake_discord.wait_until(kept)
    await asyncio.sleep(0.3)  # room for the other replica to keep it a second time, were it to
    (question,) = kept()
    assert question.text == "/yomikai-admin close — why LoRA?" and question.author_name == "Erin"

    # /summary 1: a link to the thread and the question.
    (summary,) = await chat.run("dave", "summary", n=1)
    assert ephemeral(summary)
    shown = text(summary)
    assert f"https://discord.com/channels/{GUILD_ID}/{thread}" in shown
    assert "Questions from the thread (1)" in shown and "why LoRA?" in shown

    # The meeting by hand again: cards again, no second thread.
    clock.advance(minutes=5)
    await chat.run("ada", "yomikai-admin meet")
    await asyncio.sleep(0.3)
    assert len(fake_discord.threads) == 2
    assert len(fake_discord.calls_to("POST", r"/channels/\d+/messages/\d+/threads")) == 2


async def test_the_session_is_a_scheduled_event(
    make_adapter: MakeAdapter, fake_discord: FakeDiscord, db: Database, clock: ManualClock
) -> None:
    chat = DiscordChat(await make_adapter(), fake_discord)
    await chosen(chat, db)
    (made,) = await fake_discord.wait_until(lambda: list(fake_discord.events.values()))
    event = dict(made)  # (as first made: the fake edits its own copy in place)
    with db.session() as session:
        reading = session.exec(select(ReadingSession)).one()
        assert reading.event_ref == event["id"]
    assert event["entity_type"] == 3 and event["privacy_level"] == 2
    assert event["scheduled_start_time"].startswith(reading.meets_at.isoformat()[:16])
    assert event["entity_metadata"] == {"location": "Online"}
    assert "2204.06974" not in event["description"]  # titles, not ids
    assert "Planting Undetectable Backdoors" in event["description"]

    # A swap changes who presents what; a move the time; a cancel ends it. Still one Event.
    await chat.run("ada", "yomikai-admin swap", n=1, m=2)
    edits = await fake_discord.wait_until(
        lambda: fake_discord.calls_to("PATCH", rf"{EVENTS}/{event['id']}")
    )
    assert edits[0].body["description"] != event["description"]  # the presenters traded
    day = reading.meets_at.astimezone(ZoneInfo("Europe/Berlin")).date()
    later = day + timedelta(days=1)
    await chat.run("ada", "yomikai-admin move", date=str(day), to=str(later), time="18:30")
    moved = await fake_discord.wait_until(
        lambda: (
            (e := fake_discord.events[event["id"]])["scheduled_start_time"]
            != event["scheduled_start_time"]
            and e
        )
    )
    start = datetime.fromisoformat(moved["scheduled_start_time"]).astimezone(
        ZoneInfo("Europe/Berlin")
    )
    assert (start.date(), start.hour, start.minute) == (later, 18, 30)
    await chat.run("ada", "yomikai-admin cancel", date=str(later))
    await fake_discord.wait_until(lambda: fake_discord.events[event["id"]]["status"] == 4)
    assert len(fake_discord.events) == 1
    assert len(fake_discord.calls_to("POST", EVENTS)) == 1


async def test_without_manage_events_organizers_are_told_once(
    make_adapter: MakeAdapter, fake_discord: FakeDiscord, db: Database, clock: ManualClock
) -> None:
    missing = {"message": "Missing Permissions", "code": 50013}
    fake_discord.fail("POST", EVENTS, 403, missing, times=5)
    chat = DiscordChat(await make_adapter(), fake_discord)
    await chosen(chat, db)
    ada = str(user_ids("ada")[0])

    def told() -> list[dict[str, Any]]:
        dm = fake_discord.dm_channels.get(ada)
        return [
            m
            for m in fake_discord.messages.values()
            if dm and m["channel_id"] == dm and "Manage Events" in text(m)
        ]

    await fake_discord.wait_until(told)
    # The next round closes into another session: refused again, but not said again.
    await chat.run("ada", "nominate", paper="2203.14465")
    said = await chat.run("ada", "yomikai-admin open")
    assert [m for m in said if custom_ids(m)]
    await chat.run("ada", "yomikai-admin close")
    await fake_discord.wait_until(lambda: len(fake_discord.calls_to("POST", EVENTS)) == 2)
    await asyncio.sleep(0.3)
    assert len(told()) == 1 and fake_discord.events == {}


async def test_a_thread_sent_again_after_a_crash_is_not_doubled(
    make_adapter: MakeAdapter, fake_discord: FakeDiscord
) -> None:
    """The outbox sends a thread again when its sender died before recording it: Discord
    refuses a second thread on the message (160004), and the opening's nonce is the same."""
    adapter = await make_adapter()
    card = await adapter.post(str(CHANNEL_ID), Notice("Card 1"), key="meet:1")
    opening = ThreadOpening(
        "en", 1, 1, "Planting *Undetectable* Backdoors", Person("580039817992208385", "Bob")
    )
    first = await adapter.open_thread(str(CHANNEL_ID), card, opening, key="thread:1")
    again = await adapter.open_thread(
        str(CHANNEL_ID), card, opening, key="thread:1", since=datetime.now(UTC)
    )
    assert first == again and first.ref == card
    assert first.link == f"https://discord.com/channels/{GUILD_ID}/{card}"
    (said,) = openings(fake_discord)[card]
    assert "Planting \\*Undetectable\\* Backdoors" in said["content"]
    assert fake_discord.threads[card]["name"] == "1. Planting *Undetectable* Backdoors"
