"""Binding a group to a channel, its settings and its members: ``/yomikai setup``, ``organizer``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, time

from sqlmodel import Session

from bot import args
from bot.calendar import WEEKDAYS
from bot.context import Tx
from bot.errors import UserError
from bot.i18n import LOCALES, Translator
from bot.meeting.event import changed
from bot.messages import Notice, Reply
from bot.timezones import canonical_zone
from bot.timezones import zones as all_zones
from storage.models import Group, Member
from storage.queries import insert_ignore, member_by_name, member_by_user, sessions_of

MAX_PAPERS = 20
MAX_CANDIDATES = 50
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_JA_WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")
_KEYS = {
    "timezone": "timezone",
    "tz": "timezone",
    "day": "day",
    "time": "time",
    "papers": "papers",
    "candidates": "candidates",
    "language": "language",
    "lang": "language",
    "name": "name",
    "location": "location",
    "place": "location",
    "threads": "threads",
}
NAME_LIMIT = 80
LOCATION_LIMIT = 200
"""Characters of a meeting's location (a room, an address, a video link)."""
_ON = ("on", "yes", "true", "1")
_OFF = ("off", "no", "false", "0")


@dataclass(frozen=True)
class GroupDefaults:
    """Settings a new group starts with (from ``YOMIKAI_TIMEZONE`` and ``YOMIKAI_LOCALE``)."""

    timezone: str = "UTC"
    locale: str = "en"


def closest_timezones(name: str, limit: int = 3) -> list[str]:
    """Valid zone names that look like ``name``: "Tokyo" → Asia/Tokyo, "Europe/Londn" → …/London."""
    zones = list(all_zones())
    wanted = name.strip().lower().replace(" ", "_")
    cities: dict[str, list[str]] = {}
    for zone in zones:
        cities.setdefault(zone.rsplit("/", 1)[-1].lower(), []).append(zone)
    found = [
        z
        for city in difflib.get_close_matches(wanted, list(cities), limit, 0.7)
        for z in cities[city]
    ]
    by_lower = {zone.lower(): zone for zone in zones}
    found += [by_lower[m] for m in difflib.get_close_matches(wanted, list(by_lower), limit, 0.6)]
    return list(dict.fromkeys(found))[:limit]


def parse_timezone(value: str) -> str:
    """A canonical zone name (``bot.timezones``), whatever its case."""
    zone = canonical_zone(value)
    if zone is not None:
        return zone
    raise UserError(
        "setup.bad_timezone",
        value=args.shorten(value),
        suggestions=", ".join(closest_timezones(value))
        or "Asia/Tokyo, Europe/London, America/New_York, UTC",
    )


def parse_weekday(value: str) -> int:
    """``wed``, ``Wednesday``, ``we`` or ``水`` / ``水曜日`` → 2."""
    word = value.strip().lower()
    for index, name in enumerate(_DAY_NAMES):
        if len(word) >= 2 and name.startswith(word):
            return index
    for index, name in enumerate(_JA_WEEKDAYS):
        if word in (name, f"{name}曜", f"{name}曜日"):
            return index
    raise UserError("setup.bad_day", value=args.shorten(value))


def parse_time(value: str) -> time:
    hours, sep, minutes = value.strip().partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
        h, m = int(hours), int(minutes)
        if 0 <= h <= 23 and 0 <= m <= 59:
            return time(h, m)
    raise UserError("setup.bad_time", value=args.shorten(value))


def _bounded(value: str, low: int, high: int, key: str) -> int:
    number = args.number(value)
    if not low <= number <= high:
        raise UserError(key, value=number, low=low, high=high)
    return number


def apply_setting(group: Group, key: str, value: str) -> None:
    match _KEYS.get(key.lower().rstrip(":=")):
        case "timezone":
            group.timezone = parse_timezone(value)
        case "day":
            group.meeting_weekday = parse_weekday(value)
        case "time":
            group.meeting_time = parse_time(value)
        case "papers":
            group.papers_per_session = _bounded(value, 1, MAX_PAPERS, "setup.bad_papers")
        case "candidates":
            group.candidates_per_round = _bounded(value, 1, MAX_CANDIDATES, "setup.bad_candidates")
        case "name":
            name = _one_line(value)
            if not name or len(name) > NAME_LIMIT:
                raise UserError("setup.bad_name", limit=NAME_LIMIT)
            group.name = name
        case "location":
            place = _one_line(value)
            if len(place) > LOCATION_LIMIT:
                raise UserError("calendar.bad_location", limit=LOCATION_LIMIT)
            group.location = "" if place in ("", "-") else place
        case "threads":
            word = value.strip().lower()
            if word not in _ON + _OFF:
                raise UserError("calendar.bad_threads", value=args.shorten(value))
            group.threads = word in _ON
        case "language":
            if value.lower() not in LOCALES:
                raise UserError("setup.bad_language", value=args.shorten(value))
            group.locale = value.lower()
        case _:
            raise UserError("setup.bad_key", value=args.shorten(key))


def _one_line(value: str) -> str:
    """A setting's text as one line: printable characters, single spaces."""
    return " ".join("".join(c for c in value if c.isprintable()).split())


def settings_lines(group: Group, tr: Translator) -> tuple[str, ...]:
    weekday = tr(f"weekday.{WEEKDAYS[group.meeting_weekday]}")
    named = (tr("setup.line_name", name=group.name),) if group.name else ()
    place = group.location or tr("calendar.no_location")
    return (
        *named,
        tr("setup.line_timezone", timezone=group.timezone),
        tr("setup.line_meeting", weekday=weekday, time=group.meeting_time.strftime("%H:%M")),
        tr("calendar.line_location", location=place),
        tr("setup.line_papers", papers=group.papers_per_session),
        tr("setup.line_candidates", candidates=group.candidates_per_round),
        tr("setup.line_language", language=tr(f"language.{group.locale}")),
        tr("calendar.line_threads_on" if group.threads else "calendar.line_threads_off"),
    )


def setup(tx: Tx, text: str) -> Reply:
    """Create the group on first use (the caller becomes its organizer), then apply settings."""
    words = args.words(text)
    if len(words) % 2:
        raise UserError("setup.pairs", value=args.shorten(words[-1]))
    created = tx.group is None
    if created:
        defaults: GroupDefaults = tx.prepared
        group = Group(
            platform=tx.inv.platform,
            workspace_id=tx.inv.workspace_id,
            channel_id=tx.inv.channel_id,
            timezone=defaults.timezone,
            locale=defaults.locale,
            created_at=tx.now,
        )
    else:
        group = tx.bound_group
        tx.require_organizer()
    for key, value in zip(words[::2], words[1::2], strict=True):
        apply_setting(group, key, value)
    if group.papers_per_session > group.candidates_per_round:
        raise UserError(
            "setup.papers_over_candidates",
            papers=group.papers_per_session,
            candidates=group.candidates_per_round,
        )
    tx.session.add(group)
    tx.session.flush()
    if created:
        member = ensure_member(tx.session, group.id or 0, tx.inv.user_id, tx.inv.user_name, tx.now)
        member.is_organizer = True
        tx.session.add(member)
    tr = Translator(group.locale, tx.tr.spell)
    title = tr("setup.created" if created else "setup.updated")
    lines = settings_lines(group, tr)
    keys = {_KEYS.get(key.lower().rstrip(":=")) for key in words[::2]}
    if tx.inv.platform == "console" and "threads" in keys:
        lines += (tr("calendar.threads_console"),)  # (accepted: the same words everywhere)
    notice = Notice(text=title, title=title, lines=lines)
    shown = not created and keys & {"location", "name", "timezone", "language"}
    return Reply(public=(notice,), session_changed=_events_changed(tx, group) if shown else None)


def _events_changed(tx: Tx, group: Group) -> int | None:
    """Settings calendars show changed: every planned session's event is revised; the next
    one's is brought up to date on the platform (the id for ``Reply.session_changed``)."""
    coming = [
        r for r in sessions_of(tx.session, group.id or 0, cancelled=False) if r.meets_at > tx.now
    ]
    made = [changed(tx, reading) for reading in coming]
    return made[0] if made else None


def ensure_member(
    session: Session, group_id: int, user_id: str, name: str, now: datetime
) -> Member:
    """The member row for ``user_id``, made on first sight (safe when two requests race)."""
    name = name.strip()[:128] or user_id
    insert_ignore(
        session,
        Member,
        {"group_id": group_id, "user_id": user_id, "display_name": name, "created_at": now},
        ("group_id", "user_id"),
    )
    member = member_by_user(session, group_id, user_id)
    assert member is not None
    if member.display_name != name and name != user_id:
        member.display_name = name
        session.add(member)
    return member


def resolve_member(tx: Tx, word: str | None) -> Member:
    """A member named in a command, by mention or by name: someone the group has seen (who
    used a command here), never a stranger an organizer made up (``<@U123|mallory>``)."""
    ref = args.member_ref(word)
    group = tx.bound_group
    assert group.id is not None
    if ref.user_id is not None:
        found = member_by_user(tx.session, group.id, ref.user_id)
    else:
        found = member_by_name(tx.session, group.id, ref.name)
    if found is None:
        raise UserError("member.unknown", name=args.shorten(ref.name), show_usage=False)
    return found


def organizer(tx: Tx, text: str) -> Reply:
    tx.require_organizer()
    words = args.at_most(text, 1)
    target = resolve_member(tx, words[0] if words else None)
    if target.is_organizer:
        return Reply.tell(Notice(tx.tr("organizer.already", name=target.display_name)))
    target.is_organizer = True
    tx.session.add(target)
    return Reply.announce(Notice(tx.tr("organizer.added", name=target.display_name)))
