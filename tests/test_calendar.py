"""The meeting in the calendar: the agenda's event, the group's feed, Google's link, and the
organizer commands that change a meeting (move, cancel), read back as a calendar app would."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event
from sqlmodel import select

from adapters.cli import main
from bot.core import Yomikai
from bot.meeting import feed
from bot.meeting.google import LIMIT, google_link
from bot.meeting.ics import calendar_for
from bot.messages import Agenda, DeckFile, MeetingEvent, Notice, Problem, Reminder, SummaryCard
from bot.scheduler import _desired
from storage.models import Group, ReadingSession
from tests.fakes.chat import FakeChat, ManualClock, text_of
from tests.fakes.week import run_until

pytestmark = pytest.mark.both_engines

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
TITLES = ("Planting Undetectable Backdoors", "Socratic Models")


async def close_a_round(chat: FakeChat, setup: str, papers: tuple[str, ...]) -> Agenda:
    """A group (alice organizes; alice and bob present), ``papers`` nominated, a round opened
    and closed; the agenda the channel got."""
    await chat.say("alice", setup)
    for user in ("alice", "bob"):
        await chat.say(user, "/yomikai join")
    return await next_round(chat, papers)


async def next_round(chat: FakeChat, papers: tuple[str, ...]) -> Agenda:
    for paper in papers:
        await chat.say("alice", f"/nominate {paper}")
    await chat.say("alice", "/yomikai open")
    reply = await chat.say("alice", "/yomikai close")
    assert not chat.only(reply, Problem), reply
    return agendas(chat)[-1]


def agendas(chat: FakeChat) -> list[Agenda]:
    """The agendas posted to the channel, as they went out (read back from the outbox)."""
    return [s.message for s in chat.announced + chat.sent if isinstance(s.message, Agenda)]


def parsed(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def events_of(calendar: Calendar) -> list[Event]:
    return list(calendar.walk("VEVENT"))


def one_event(agenda: Agenda) -> tuple[Calendar, Event]:
    assert agenda.event is not None
    calendar = parsed(calendar_for([agenda.event], "x", stamp=datetime(2026, 11, 30, tzinfo=UTC)))
    (event,) = events_of(calendar)
    return calendar, event


async def group_of(chat: FakeChat) -> Group:
    def find(session):  # type: ignore[no-untyped-def]
        return session.exec(select(Group).where(Group.channel_id == chat.channel)).one()

    return await chat.core.in_thread(find)


async def the_feed(chat: FakeChat) -> Calendar:
    """The group's feed as ``/calendar/<token>.ics`` serves it."""
    group = await group_of(chat)
    data = await feed.feed_file(chat.core.unit, group.calendar_token)
    assert data is not None
    return parsed(data)


def local_start(event: Event) -> datetime:
    start = event["DTSTART"].dt
    assert isinstance(start, datetime) and start.tzinfo is not None  # never floating
    return start


async def test_the_agenda_carries_the_meeting_with_the_groups_zone(chat: FakeChat) -> None:
    setup = "/yomikai setup timezone Europe/Berlin papers 2 location 'Room 3.14'"
    agenda = await close_a_round(chat, setup, ("2204.06974", "2204.00598"))
    calendar, event = one_event(agenda)  # (the agenda as the outbox stored and sent it)

    assert calendar["PRODID"] and calendar["VERSION"] == "2.0"
    assert calendar["CALSCALE"] == "GREGORIAN" and calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Berlin"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    assert "TZID=Europe/Berlin:20261209T170000" in calendar.to_ical().decode()
    assert local_start(event) == datetime(2026, 12, 9, 17, 0, tzinfo=BERLIN)
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(hours=1)
    assert str(event["STATUS"]) == "CONFIRMED" and event["LOCATION"] == "Room 3.14"
    assert event["SUMMARY"] == "Reading session · 2026-12-09"
    description = str(event["DESCRIPTION"])
    assert "1. " in description and "2. " in description
    assert all(title in description for title in TITLES)
    assert "alice" in description and "bob" in description  # who presents each
    group = await group_of(chat)
    (reading,) = await chat.core.in_thread(
        lambda s: list(s.exec(select(ReadingSession).where(ReadingSession.group_id == group.id)))
    )
    assert event["UID"] == f"{reading.uid}@yomikai" and event["SEQUENCE"] == 1


async def test_seventeen_oclock_on_both_sides_of_the_dst_change(
    chat: FakeChat, clock: ManualClock
) -> None:
    """Berlin leaves summer time on 2026-10-25: the meetings of 10-21 and 10-28 both read
    17:00 local; in UTC one is 15:00, the other 16:00."""
    clock.current = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)  # a Monday
    setup = "/yomikai setup timezone Europe/Berlin day wed time 17:00 papers 1"
    await close_a_round(chat, setup, ("2204.06974",))
    await next_round(chat, ("2204.00598",))  # (10-21 is taken: the next Wednesday)

    calendar = await the_feed(chat)
    before, after = sorted(events_of(calendar), key=local_start)
    assert [local_start(e).astimezone(BERLIN).strftime("%m-%d %H:%M") for e in (before, after)] == [
        "10-21 17:00",
        "10-28 17:00",
    ]
    assert {e["DTSTART"].params["TZID"] for e in (before, after)} == {"Europe/Berlin"}
    assert local_start(before).astimezone(UTC).hour == 15  # CEST, UTC+2
    assert local_start(after).astimezone(UTC).hour == 16  # CET, UTC+1
    gap = local_start(after).astimezone(UTC) - local_start(before).astimezone(UTC)
    assert gap == timedelta(days=7, hours=1)
    (zone,) = calendar.walk("VTIMEZONE")
    offsets = {part["TZOFFSETTO"].td for part in zone.subcomponents}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


async def test_a_japanese_groups_event_is_in_japanese(chat: FakeChat) -> None:
    setup = "/yomikai setup timezone Asia/Tokyo language ja papers 2"
    agenda = await close_a_round(chat, setup, ("2204.06974", "2204.00598"))
    _calendar, event = one_event(agenda)
    assert event["SUMMARY"] == "読み会（2026-12-09）"
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert all(title in str(event["DESCRIPTION"]) for title in TITLES)
    assert "Reading session" not in str(event["SUMMARY"])


async def test_the_uid_stays_and_the_sequence_grows_through_every_change(
    chat: FakeChat,
) -> None:
    setup = "/yomikai setup timezone Europe/Berlin papers 2"
    first = await close_a_round(chat, setup, ("2204.06974", "2204.00598"))
    _, made = one_event(first)

    reply = await chat.say("alice", "/yomikai swap 1 2")
    assert reply.session_changed is not None
    _, swapped = one_event(agendas(chat)[-1])  # swap posts the agenda again
    assert swapped["UID"] == made["UID"] and swapped["SEQUENCE"] == made["SEQUENCE"] + 1
    assert str(swapped["DESCRIPTION"]) != str(made["DESCRIPTION"])  # the presenters swapped

    reply = await chat.say("alice", "/yomikai move 2026-12-09 2026-12-10 18:30")
    notice = chat.only(reply, Notice)[0]
    assert "2026-12-09 17:00" in notice.text and "2026-12-10 18:30" in notice.text
    _, moved = one_event(agendas(chat)[-1])
    assert moved["UID"] == made["UID"] and moved["SEQUENCE"] == made["SEQUENCE"] + 2
    assert local_start(moved) == datetime(2026, 12, 10, 18, 30, tzinfo=BERLIN)

    for line in ("/yomikai drop 1", "/yomikai take 1", "/yomikai assign 2 @bob"):
        user = "bob" if "drop" in line or "take" in line else "alice"
        if "drop" in line:  # whoever presents slot 1 gives it back
            presenter = agendas(chat)[-1].slots[0].presenter
            assert presenter is not None
            user = presenter.name
        reply = await chat.say(user, line)
        assert not chat.only(reply, Problem), (line, reply)
        assert reply.session_changed is not None, line

    (event,) = events_of(await the_feed(chat))  # one event: an update, never a duplicate
    assert event["UID"] == made["UID"] and event["SEQUENCE"] == made["SEQUENCE"] + 5
    assert local_start(event) == datetime(2026, 12, 10, 18, 30, tzinfo=BERLIN)


async def test_a_cancelled_session_gets_no_reminders_and_no_meet_post(
    chat: FakeChat, clock: ManualClock
) -> None:
    setup = "/yomikai setup timezone Asia/Tokyo papers 2"
    await close_a_round(chat, setup, ("2204.06974", "2204.00598"))
    reply = await chat.say("alice", "/yomikai cancel 2026-12-09")
    (notice,) = chat.only(reply, Notice)
    assert reply.public == (notice,) and reply.session_changed is not None
    assert (
        "2026-12-09 17:00 is cancelled" in notice.text and "Its papers (2) go back" in notice.text
    )

    again = await chat.say("alice", "/yomikai cancel 2026-12-09")
    assert not again.public and "already cancelled" in text_of(again.private[0])

    (event,) = events_of(await the_feed(chat))  # still in the feed, as cancelled
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 2

    # Not the session commands mean any more; its papers are candidates again.
    assert "There is no session yet" in await chat.text("bob", "/presenters")
    assert "no session is coming up" in await chat.text("alice", "/yomikai remind")
    opened = await chat.text("alice", "/yomikai open")
    assert all(title in opened for title in TITLES)

    # The week runs by itself through the cancelled meeting: no reminder, no card, no deck.
    await run_until(chat.core, clock, datetime(2026, 12, 10, 0, 0, tzinfo=TOKYO))
    kinds = [type(s.message) for s in chat.sent]
    assert Reminder not in kinds and SummaryCard not in kinds and DeckFile not in kinds
    # (Tuesday's close made the next session: not on the cancelled day, a week later)
    assert [f"{a.meets_at:%m-%d}" for a in agendas(chat)[1:]] == ["12-16"]


async def test_before_any_session_move_and_cancel_say_there_is_none_yet(chat: FakeChat) -> None:
    await chat.say("alice", "/yomikai setup")
    for line in ("/yomikai cancel 2026-12-09", "/yomikai move 2026-12-09 2026-12-10"):
        problem = await chat.problem("alice", line)
        assert problem.text.startswith("There is no session yet.") and problem.usage is None


async def test_move_and_cancel_refuse_with_clear_errors(chat: FakeChat, clock: ManualClock) -> None:
    setup = "/yomikai setup timezone Asia/Tokyo papers 1"
    await close_a_round(chat, setup, ("2204.06974",))
    await next_round(chat, ("2204.00598",))  # a second session, on 2026-12-16

    async def says(user: str, line: str) -> str:
        problem = await chat.problem(user, line)
        return problem.text

    assert "Say which session" in await says("alice", "/yomikai move")
    assert "Say which session" in await says("alice", "/yomikai move 2026-12-09")
    assert "“tomorrow” is not a date" in await says("alice", "/yomikai move tomorrow 2026-12-10")
    assert "“soon” is not a date" in await says("alice", "/yomikai move 2026-12-09 soon")
    assert "“25:00” is not a time" in await says(
        "alice", "/yomikai move 2026-12-09 2026-12-10 25:00"
    )
    assert "“x” is more than" in await says("alice", "/yomikai move 2026-12-09 2026-12-10 18:00 x")
    assert "no session on 2026-12-11" in await says("alice", "/yomikai move 2026-12-11 2026-12-12")
    assert "2026-12-16 already has a session" in await says(
        "alice", "/yomikai move 2026-12-09 2026-12-16"
    )
    past = await says("alice", "/yomikai move 2026-12-09 2026-11-29")
    assert "2026-11-29 17:00 is in the past" in past and "2026-11-30 18:00 now" in past
    assert "Only organizers" in await says("bob", "/yomikai move 2026-12-09 2026-12-10")
    problem = await chat.problem("alice", "/yomikai move 2026-12-09")
    assert problem.usage == "/yomikai move <YYYY-MM-DD> <YYYY-MM-DD> [HH:MM]"

    assert "A date is missing" in await says("alice", "/yomikai cancel")
    assert "“next-week” is not a date" in await says("alice", "/yomikai cancel next-week")
    assert "no session on 2026-12-10" in await says("alice", "/yomikai cancel 2026-12-10")
    assert "Only organizers" in await says("bob", "/yomikai cancel 2026-12-09")
    stranger = await chat.problem("mallory", "/yomikai calendar")
    assert "Only organizers" in stranger.text

    await chat.say("alice", "/yomikai cancel 2026-12-16")
    assert "is cancelled, so it cannot be moved" in await says(
        "alice", "/yomikai move 2026-12-16 2026-12-17"
    )
    # Moving onto a cancelled meeting's day is the organizers' choice, and allowed.
    moved = await chat.say("alice", "/yomikai move 2026-12-09 2026-12-16")
    assert not chat.only(moved, Problem) and moved.session_changed is not None
    assert "already meets" in await chat.text("alice", "/yomikai move 2026-12-16 2026-12-16")

    clock.current = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo: it has met
    assert "already taken place" in await says("alice", "/yomikai move 2026-12-16 2026-12-23")
    assert "already taken place" in await says("alice", "/yomikai cancel 2026-12-16")
    # Nothing of the refused commands changed anything: the feed has the two sessions, one
    # cancelled, the other moved once.
    events = sorted(events_of(await the_feed(chat)), key=lambda e: int(e["SEQUENCE"]))
    assert [(str(e["STATUS"]), int(e["SEQUENCE"])) for e in events] == [
        ("CONFIRMED", 2),
        ("CANCELLED", 2),
    ]


async def test_a_moved_session_is_met_at_its_new_time(chat: FakeChat, clock: ManualClock) -> None:
    setup = "/yomikai setup timezone Asia/Tokyo papers 1"
    await close_a_round(chat, setup, ("2204.06974",))
    await chat.say("alice", "/yomikai move 2026-12-09 2026-12-10 19:00")
    group = await group_of(chat)
    moved = datetime(2026, 12, 10, 19, 0, tzinfo=TOKYO)

    # The scheduler installs a one-off meet at the new time (beside the weekly rules).
    wanted = await chat.core.in_thread(lambda s: _desired(s, clock.now()))
    assert [spec[2] for key, spec in wanted.items() if ":meet:at:" in key] == [moved]

    await run_until(chat.core, clock, datetime(2026, 12, 11, 0, 0, tzinfo=TOKYO))
    met = [
        (f"{sent.at.astimezone(TOKYO):%m-%d %H:%M}", type(sent.message).__name__)
        for sent in chat.sent
        if not isinstance(sent.message, Reminder | Agenda)
    ]
    # (the card has no text yet: it is listed as missing, and the deck follows)
    assert met == [("12-10 19:00", "Notice"), ("12-10 19:00", "DeckFile")]
    before = len(chat.sent)
    clock.current = moved + timedelta(seconds=30)
    await chat.core.jobs.run_scheduled(group.id or 0, "meet")  # (run again: nothing more)
    assert len(chat.sent) == before


async def test_setup_location_and_threads(chat: FakeChat, core: Yomikai) -> None:
    created = await chat.text("alice", "/yomikai setup timezone Asia/Tokyo papers 1")
    assert "Location: not set" in created and "Discussion threads: on" in created
    await chat.say("alice", "/yomikai join")
    await next_round(chat, ("2204.06974",))

    reply = await chat.say(
        "alice", '/yomikai setup location "Zoom https://zoom.us/j/1?p=a&b" threads off'
    )
    said = text_of(reply.public[0])
    assert "Location: Zoom https://zoom.us/j/1?p=a&b" in said and "Discussion threads: off" in said
    assert reply.session_changed is not None  # the planned session's event shows the place
    group = await group_of(chat)
    assert group.location == "Zoom https://zoom.us/j/1?p=a&b" and group.threads is False
    (event,) = events_of(await the_feed(chat))
    assert event["LOCATION"] == "Zoom https://zoom.us/j/1?p=a&b" and event["SEQUENCE"] == 2
    assert "Location: Zoom" in await chat.text("bob", "/yomikai status")

    assert (
        "“maybe” is neither on nor off"
        in (await chat.problem("alice", "/yomikai setup threads maybe")).text
    )
    too_long = await chat.problem("alice", f"/yomikai setup location {'x' * 201}")
    assert "at most 200 characters" in too_long.text
    assert "Location: not set" in await chat.text("alice", "/yomikai setup location -")

    console = FakeChat(core, channel="console", platform="console")
    said = await console.text("carol", "/yomikai setup threads off")
    assert "The console has no threads" in said and "Discussion threads: off" in said
    assert "no threads" not in await console.text("carol", "/yomikai setup papers 3")


async def test_the_calendar_command_tells_organizers_where_the_feed_is(
    chat: FakeChat, core: Yomikai
) -> None:
    assert "no reading group yet" in (await chat.problem("bob", "/yomikai calendar")).text
    await chat.say("alice", "/yomikai setup timezone Europe/Berlin papers 1")
    assert "Only organizers" in (await chat.problem("bob", "/yomikai calendar")).text
    group = await group_of(chat)
    said = await chat.text("alice", "/yomikai calendar")
    assert f"/calendar/{group.calendar_token}.ics" in said and "YOMIKAI_PUBLIC_URL" in said
    assert "No meeting is planned yet" in said
    await chat.say("bob", "/yomikai join")
    assert "Only organizers" in (await chat.problem("bob", "/yomikai calendar")).text

    core.services = replace(core.services, public_url="https://bot.example.org")
    agenda = await next_round(chat, ("2204.06974",))
    reply = await chat.say("alice", "/yomikai calendar")
    assert not reply.public  # only the organizer who asks sees the address
    said = text_of(reply.private[0])
    url = f"https://bot.example.org/calendar/{group.calendar_token}.ics"
    assert url in said and "YOMIKAI_PUBLIC_URL" not in said
    assert "Next meeting: 2026-12-09 17:00" in said
    (google,) = [w for w in said.split() if w.startswith("https://calendar.google.com/")]
    assert parse_qs(urlsplit(google).query)["ctz"] == ["Europe/Berlin"]
    # With a public address, the agenda links its session's own .ics.
    assert agenda.event is not None
    assert agenda.calendar_url == f"https://bot.example.org/calendar/event/{agenda.event.uid}.ics"
    served = await feed.event_file(core.unit, agenda.event.uid)
    assert served is not None
    (event,) = events_of(parsed(served))
    assert event["UID"] == f"{agenda.event.uid}@yomikai"
    assert await feed.event_file(core.unit, "0" * 32) is None
    assert await feed.feed_file(core.unit, "not-the-token-of-any-group") is None
    assert await feed.feed_file(core.unit, "../../etc/passwd") is None


def _event(**changes: object) -> MeetingEvent:
    zone = ZoneInfo("America/New_York")
    starts = datetime(2026, 12, 9, 17, 0, tzinfo=zone)
    values: dict[str, object] = {
        "locale": "en",
        "session_id": 1,
        "uid": "a" * 32,
        "revision": 3,
        "title": "ML reading group · 2026-12-09",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=1),
        "zone": "America/New_York",
        "location": "Room 3 & 4, “north” wing",
        "papers": ("1. Planting Undetectable Backdoors — alice", "2. PaLM: scaling & more — bob"),
    }
    return MeetingEvent(**(values | changes))  # type: ignore[arg-type]


def test_the_google_link_decodes_back_to_the_meeting() -> None:
    link = google_link(_event())
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    query = parse_qs(parts.query, strict_parsing=True)
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20261209T170000/20261209T180000"]  # local, with ctz
    assert query["ctz"] == ["America/New_York"]
    assert query["text"] == ["ML reading group · 2026-12-09"]
    assert query["location"] == ["Room 3 & 4, “north” wing"]
    assert query["details"] == [
        "1. Planting Undetectable Backdoors — alice\n2. PaLM: scaling & more — bob"
    ]
    assert " " not in link and "\n" not in link and "&b" not in link

    # An event read back from the outbox has only an offset: the zone's name decides.
    fixed = _event(starts_at=datetime(2026, 12, 9, 22, 0, tzinfo=UTC))
    fixed = replace(fixed, ends_at=fixed.starts_at + timedelta(hours=1))
    assert parse_qs(urlsplit(google_link(fixed)).query)["dates"] == [
        "20261209T170000/20261209T180000"
    ]
    # Many long (Japanese) titles: the description is shortened, the link stays usable.
    long = _event(papers=tuple(f"{n}. {'大規模言語モデル' * 30} — 発表者" for n in range(1, 21)))
    cut = google_link(long)
    assert len(cut) <= LIMIT
    details = parse_qs(urlsplit(cut).query)["details"][0]
    assert details.startswith("1. 大規模言語モデル") and details.endswith("…")


def test_the_ics_escapes_text_and_marks_cancellation() -> None:
    stamp = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    data = calendar_for(
        [_event(), _event(uid="b" * 32, cancelled=True)], "ML, group; x", stamp=stamp
    )
    calendar = parsed(data)
    assert calendar["X-WR-CALNAME"] == "ML, group; x"
    live, cancelled = events_of(calendar)
    assert str(live["STATUS"]) == "CONFIRMED" and str(cancelled["STATUS"]) == "CANCELLED"
    assert live["LOCATION"] == "Room 3 & 4, “north” wing"
    assert str(live["DESCRIPTION"]).splitlines()[1] == "2. PaLM: scaling & more — bob"
    assert live["DTSTAMP"].dt == stamp and live["SEQUENCE"] == 3
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded, as RFC 5545 says


async def test_yomikai_calendar_prints_the_feed(
    chat: FakeChat,
    core: Yomikai,
    database_url: str,
    engine: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """The installed command as a subprocess, on the database a short week made."""
    if engine != "sqlite":
        pytest.skip("one engine is enough for the command line (the feed is tested on both)")
    await close_a_round(
        chat,
        "/yomikai setup timezone Asia/Tokyo papers 2 name 'ML club'",
        ("2204.06974", "2204.00598"),
    )
    await chat.say("alice", "/yomikai cancel 2026-12-09")

    def calendar(*arguments: str) -> subprocess.CompletedProcess[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YOMIKAI_", "SLACK_"))}
        return subprocess.run(
            [sys.executable, "-m", "adapters.cli", "calendar", *arguments],
            capture_output=True,
            env=env | {"YOMIKAI_DATABASE_URL": "sqlite:///nowhere.db"},
            cwd=tmp_path,
            timeout=60,
        )

    done = calendar("--database-url", database_url)
    assert done.returncode == 0, done.stderr.decode()
    printed = parsed(done.stdout)
    assert printed["X-WR-CALNAME"] == "ML club" and printed["X-WR-TIMEZONE"] == "Asia/Tokyo"
    (event,) = events_of(printed)
    assert str(event["STATUS"]) == "CANCELLED" and event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert all(title in str(event["DESCRIPTION"]) for title in TITLES)

    # The rest in-process: the same entry point, without starting Python three more times.
    other = FakeChat(core, channel="C-second")
    await other.say("carol", "/yomikai setup")
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()  # (main sets up logging for a process: put it back after)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    assert main(["calendar", "--database-url", database_url]) == 2
    several = capsysbinary.readouterr()
    assert not several.out and b"there are 2 groups; choose one with --channel" in several.err
    assert b"fake:C-paper-club (ML club)" in several.err and b"fake:C-second" in several.err
    assert main(["calendar", "--database-url", database_url, "--channel", "C-second"]) == 0
    assert events_of(parsed(capsysbinary.readouterr().out)) == []
    assert main(["calendar", "--database-url", database_url, "--channel", "C-nobody"]) == 2
    assert b"no reading group in channel C-nobody" in capsysbinary.readouterr().err


async def test_an_agenda_survives_the_outbox(chat: FakeChat) -> None:
    """What the outbox stored is what was made: the nested event comes back whole."""
    from bot.delivery import codec

    agenda = await close_a_round(
        chat, "/yomikai setup timezone Europe/Berlin papers 1", ("2204.06974",)
    )
    assert agenda.event is not None
    back = codec.load(codec.dump(agenda))
    assert back == agenda and isinstance(back, Agenda) and back.event == agenda.event
