"""The meeting in the calendar on Discord: the agenda comes with its ``.ics`` attached and a
Google Calendar link, and comes again, the same event revised, after every change."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from tests.discord_adapter.chat import DiscordChat, ephemeral, text
from tests.fakes.discord_api import FakeDiscord

BERLIN = ZoneInfo("Europe/Berlin")
GOOGLE = re.compile(r"\[Add to Google Calendar\]\((https://calendar\.google\.com/[^)\s]+)\)")


def attached_event(fake: FakeDiscord, message: dict[str, Any]) -> Event:
    """The one VEVENT of the ``.ics`` attached to ``message``, as Discord received it."""
    (attachment,) = message["attachments"]
    name = attachment["filename"]
    assert name.endswith(".ics")
    (data,) = [c.files[name] for c in fake.calls if name in c.files and c.body.get("embeds")][-1:]
    calendar = Calendar.from_ical(bytes(data))
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    (event,) = calendar.walk("VEVENT")
    return event


async def test_the_agenda_has_the_meeting_attached(adapter, fake_discord: FakeDiscord) -> None:
    chat = DiscordChat(adapter, fake_discord)
    await chat.run(
        "ada", "yomikai-admin setup", timezone="Europe/Berlin", papers=2, location="Room 1"
    )
    for user in ("ada", "bob"):
        await chat.run(user, "yomikai join")
    await chat.run("ada", "nominate", paper="2204.06974")
    await chat.run("bob", "nominate", paper="2204.00598")
    await chat.run("ada", "yomikai-admin open")
    (agenda,) = [m for m in await chat.run("ada", "yomikai-admin close") if m["attachments"]]
    assert (
        not ephemeral(agenda) and agenda["attachments"][0]["filename"] == "yomikai-2026-12-09.ics"
    )
    made = attached_event(fake_discord, agenda)
    assert made["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert made["DTSTART"].dt == datetime(2026, 12, 9, 17, 0, tzinfo=BERLIN)
    assert made["LOCATION"] == "Room 1" and made["SEQUENCE"] == 1
    assert "Planting Undetectable Backdoors" in str(made["DESCRIPTION"])
    (google,) = GOOGLE.findall(text(agenda))
    query = parse_qs(urlsplit(google).query)
    assert query["ctz"] == ["Europe/Berlin"] and query["location"] == ["Room 1"]
    assert "attached as a calendar file" in text(agenda)

    # A swap posts the agenda again: the same event, one revision later.
    said = await chat.run("ada", "yomikai-admin swap", n=1, m=2)
    (again,) = [m for m in said if m["attachments"]]
    swapped = attached_event(fake_discord, again)
    assert swapped["UID"] == made["UID"] and swapped["SEQUENCE"] == 2

    # So does a move, at the new time.
    said = await chat.run(
        "ada", "yomikai-admin move", date="2026-12-09", to="2026-12-10", time="18:00"
    )
    assert any("now meets on 2026-12-10 18:00" in text(m) for m in said)
    (moved_post,) = [m for m in said if m["attachments"]]
    moved = attached_event(fake_discord, moved_post)
    assert moved["UID"] == made["UID"] and moved["SEQUENCE"] == 3
    assert moved["DTSTART"].dt == datetime(2026, 12, 10, 18, 0, tzinfo=BERLIN)
    (google,) = GOOGLE.findall(text(moved_post))
    assert parse_qs(urlsplit(google).query)["dates"] == ["20261210T180000/20261210T190000"]

    # A cancellation is said in the channel, with no event to add.
    said = await chat.run("ada", "yomikai-admin cancel", date="2026-12-10")
    assert any("is cancelled" in text(m) and not ephemeral(m) for m in said)
    assert all(not m["attachments"] for m in said)
