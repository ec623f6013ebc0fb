"""The meeting in the calendar through the real Slack app in HTTP mode: the agenda's links, and
the calendar feed the same aiohttp server serves, fetched as a calendar app would."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from icalendar import Calendar
from sqlmodel import select

from bot.core import Yomikai
from storage.db import Database
from storage.models import Group, ReadingSession
from tests.slack.slack_side import SlackSide, posted

pytestmark = pytest.mark.both_engines

LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


async def test_the_agenda_links_the_meeting_and_the_feed_is_served(
    slack: SlackSide, core: Yomikai, db: Database
) -> None:
    base = f"http://127.0.0.1:{slack.adapter.port}"
    core.services = replace(core.services, public_url=base)
    fake = slack.fake
    await posted(slack, "alice", "/yomikai setup timezone Europe/Berlin papers 1 location B-204")
    await posted(slack, "alice", "/yomikai join")
    await posted(slack, "alice", "/nominate 2204.06974")
    await slack.command("alice", "/yomikai open")
    await fake.wait_for(lambda: len(fake.to("chat.postMessage")) >= 4)
    await slack.command("alice", "/yomikai close")
    (agenda,) = await fake.wait_for(
        lambda: [c for c in fake.to("chat.postMessage") if "calendar.google.com" in c.text()]
    )

    links = {label: unescape(url) for url, label in LINK.findall(agenda.blocks[-1]["text"]["text"])}
    assert set(links) == {"Add to Google Calendar", "Calendar file (.ics)"}
    google = parse_qs(urlsplit(links["Add to Google Calendar"]).query)
    assert google["ctz"] == ["Europe/Berlin"] and google["location"] == ["B-204"]
    assert google["dates"] == ["20261209T170000/20261209T180000"]
    assert "Planting Undetectable Backdoors" in google["details"][0]

    with db.session(read_only=True) as session:
        group = session.exec(select(Group)).one()
        reading = session.exec(select(ReadingSession)).one()
    assert links["Calendar file (.ics)"] == f"{base}/calendar/event/{reading.uid}.ics"

    async with aiohttp.ClientSession() as http:

        async def fetch(url: str) -> tuple[int, str, bytes]:
            async with http.get(url) as response:
                return response.status, response.headers["Content-Type"], await response.read()

        status, kind, body = await fetch(links["Calendar file (.ics)"])
        assert (status, kind) == (200, "text/calendar; charset=utf-8")
        (event,) = Calendar.from_ical(body).walk("VEVENT")
        assert event["UID"] == f"{reading.uid}@yomikai" and event["LOCATION"] == "B-204"

        status, kind, body = await fetch(f"{base}/calendar/{group.calendar_token}.ics")
        assert (status, kind) == (200, "text/calendar; charset=utf-8")
        feed = Calendar.from_ical(body)
        assert feed["X-WR-TIMEZONE"] == "Europe/Berlin"
        (event,) = feed.walk("VEVENT")
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event["DTSTART"].dt == datetime(2026, 12, 9, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        assert [tz["TZID"] for tz in feed.walk("VTIMEZONE")] == ["Europe/Berlin"]

        token = group.calendar_token
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        for path in (
            f"/calendar/{wrong}.ics",
            f"/calendar/{token.swapcase()}.ics",
            "/calendar/x.ics",
            f"/calendar/{token}",
            "/calendar/event/00000000000000000000000000000000.ics",
            f"/calendar/event/{token}.ics",
            "/calendar/%2e%2e%2fslack%2fevents.ics",
        ):
            status, _kind, body = await fetch(base + path)
            assert status == 404, path
            assert b"BEGIN:VCALENDAR" not in body and token.encode() not in body
