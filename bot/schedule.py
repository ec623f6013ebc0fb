"""A group's weekly schedule: when each job runs, in the group's own wall-clock time.

Every job is a list of weekly rules ("mon 10:00", "daily 09:00"). The reminder's default is
relative to the meeting: two days before it and one hour before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import args
from bot.calendar import WEEKDAYS, next_weekly
from bot.context import Tx
from bot.errors import UserError
from bot.group_setup import parse_time, parse_weekday
from bot.i18n import Translator
from bot.messages import Notice, Reply
from storage.models import Group
from storage.queries import sessions_of

JOBS = ("poll", "open", "close", "remind", "meet")
DEFAULTS = {"poll": "daily 09:00", "open": "mon 10:00", "close": "tue 18:00", "remind": "auto"}
REMIND_BEFORE = (timedelta(days=2), timedelta(hours=1))
"""The default reminders: two days before the meeting, and one hour before it."""
PREPARATION = timedelta(days=3)
"""A round closed now is read at the first meeting at least this far ahead, so presenters have
time to prepare (a Tuesday close picks the papers for next week's Wednesday, not tomorrow's)."""


@dataclass(frozen=True)
class Rule:
    """Once a week on ``weekday`` (Monday 0), or every day when ``weekday`` is None, at ``at``."""

    weekday: int | None
    at: time

    def describe(self, day_names: tuple[str, ...]) -> str:
        day = day_names[self.weekday] if self.weekday is not None else "daily"
        return f"{day} {self.at:%H:%M}"

    def occurrences(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
        """Every time this rule fires in the half-open interval (start, end]."""
        found = []
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            if self.weekday is None or day.weekday() == self.weekday:
                moment = datetime.combine(day, self.at, tzinfo=zone)
                if start < moment <= end:
                    found.append(moment)
            day += timedelta(days=1)
        return found


def parse_rule(words: Sequence[str], *, daily_allowed: bool = True) -> Rule:
    """``["mon", "10:00"]`` or ``["daily", "09:00"]`` → a Rule (errors name the accepted forms)."""
    if len(words) != 2:
        raise UserError("schedule.bad_form")
    day, at = words
    if day.lower() in ("daily", "everyday", "毎日") and daily_allowed:
        return Rule(None, parse_time(at))
    try:
        return Rule(parse_weekday(day), parse_time(at))
    except UserError:
        raise UserError("schedule.bad_form") from None


def _spec(group: Group, job: str) -> str:
    if job == "meet":
        if group.schedule.get("meet") == "off":
            return "off"
        return f"{WEEKDAYS[group.meeting_weekday]} {group.meeting_time:%H:%M}"
    return group.schedule.get(job, DEFAULTS[job])


def rules(group: Group, job: str) -> list[Rule]:
    """When ``job`` fires for ``group``; empty when it is off."""
    spec = _spec(group, job)
    if spec == "off":
        return []
    if spec == "auto":
        meeting = Rule(group.meeting_weekday, group.meeting_time)
        return [_shift(meeting, -before) for before in REMIND_BEFORE]
    return [parse_rule(spec.split())]


def _shift(rule: Rule, delta: timedelta) -> Rule:
    assert rule.weekday is not None
    reference = datetime(2024, 1, 1 + rule.weekday, rule.at.hour, rule.at.minute)  # a Monday
    moved = reference + delta
    return Rule(moved.weekday(), moved.time())


def latest_due(
    group: Group, job: str, now: datetime, within: timedelta, extra: Sequence[datetime] = ()
) -> datetime | None:
    """The latest time ``job`` was due in (now - within, now], or None. ``extra`` are more
    times it is due at (``off_rule_meetings`` for ``meet``)."""
    zone = ZoneInfo(group.timezone)
    times = [t for rule in rules(group, job) for t in rule.occurrences(now - within, now, zone)]
    times += [t for t in extra if now - within < t <= now]
    return max(times) if times else None


def next_due(
    group: Group, job: str, now: datetime, extra: Sequence[datetime] = ()
) -> datetime | None:
    zone = ZoneInfo(group.timezone)
    week = now + timedelta(days=8)
    times = [t for rule in rules(group, job) for t in rule.occurrences(now, week, zone)]
    times += [t for t in extra if now < t <= week]
    return min(times) if times else None


def off_rule_meetings(session: Session, group: Group) -> list[datetime]:
    """When sessions meet that the weekly meeting rule does not fire for (a session moved with
    ``/yomikai move``, or made before the meeting time changed): the ``meet`` job runs at
    those times too. Cancelled sessions are not met; with ``meet`` off, none is."""
    if not rules(group, "meet"):
        return []
    zone = ZoneInfo(group.timezone)
    found = []
    for reading in sessions_of(session, group.id or 0, cancelled=False):
        local = reading.meets_at.astimezone(zone)
        on_rule = local.weekday() == group.meeting_weekday and local.time() == group.meeting_time
        if not on_rule:
            found.append(reading.meets_at)
    return found


def meeting_for(session: Session, group: Group, closes_at: datetime) -> datetime:
    """The meeting a round closed at ``closes_at`` is for: the first one at least
    ``PREPARATION`` later on a day that has no session yet. A second round closed in the same
    week is read a week later, so a meeting never has two sessions (``/card n`` never means
    two). A day counts as taken by any session on it (in the group's zone), at whatever time
    it was moved to, and also by a cancelled one: the organizers said there is no meeting that
    day (``/yomikai move`` may still put a session there)."""
    zone = ZoneInfo(group.timezone)
    taken = {r.meets_at.astimezone(zone).date() for r in sessions_of(session, group.id or 0)}
    day, at = group.meeting_weekday, group.meeting_time
    meets_at = next_weekly(closes_at + PREPARATION, zone, day, at)
    while meets_at.astimezone(zone).date() in taken:
        meets_at = next_weekly(meets_at, zone, day, at)
    return meets_at


def set_job(group: Group, job: str, words: Sequence[str]) -> None:
    """Apply ``/yomikai schedule <job> …`` to the group (validated; raises UserError)."""
    if job not in JOBS:
        raise UserError("schedule.bad_job", value=job[:40])
    spec = " ".join(words).lower()
    if spec == "off":
        group.schedule = {**group.schedule, job: "off"}
        return
    if job == "remind" and spec in ("auto", "default"):
        group.schedule = {k: v for k, v in group.schedule.items() if k != job}
        return
    if spec == "default" or (job == "meet" and spec == "on"):
        group.schedule = {k: v for k, v in group.schedule.items() if k != job}
        return
    rule = parse_rule(words, daily_allowed=job == "poll")
    if job == "meet":
        assert rule.weekday is not None
        group.meeting_weekday, group.meeting_time = rule.weekday, rule.at
        group.schedule = {k: v for k, v in group.schedule.items() if k != "meet"}
        return
    group.schedule = {**group.schedule, job: rule.describe(WEEKDAYS)}


def show(group: Group, tr: Translator, now: datetime, session: Session) -> Notice:
    zone = ZoneInfo(group.timezone)
    lines = []
    for job in JOBS:
        when = _spec(group, job)
        described = tr("schedule.off") if when == "off" else _describe(group, job, tr)
        upcoming = next_due(group, job, now)
        next_text = f"{upcoming.astimezone(zone):%Y-%m-%d %H:%M}" if upcoming else "—"
        lines.append(tr("schedule.line", job=job, when=described, next=next_text))
        if job == "close" and upcoming is not None:
            reads = meeting_for(session, group, upcoming).astimezone(zone)
            lines.append(tr("schedule.close_reads", date=f"{reads:%Y-%m-%d %H:%M}"))
    title = tr("schedule.title", timezone=group.timezone)
    return Notice(title, title=title, lines=tuple(lines))


def _describe(group: Group, job: str, tr: Translator) -> str:
    days = tuple(tr(f"weekday.{day}") for day in WEEKDAYS)
    described = tr("render.separator").join(r.describe(days) for r in rules(group, job))
    return described.replace("daily", tr("schedule.daily"))


def schedule_command(tx: Tx, text: str) -> Reply:
    """``/yomikai schedule`` shows the schedule; ``/yomikai schedule <job> <day> <HH:MM>|off``."""
    tx.require_organizer()
    group = tx.bound_group
    words = args.at_most(text, 3)
    if words:
        set_job(group, words[0].lower(), words[1:])
        tx.session.add(group)
        return Reply.announce(show(group, tx.tr, tx.now, tx.session))
    return Reply.tell(show(group, tx.tr, tx.now, tx.session))
