"""The one command registry: every command declared once (usage, help, who may run it).

Adapters build their slash commands from it, and ``/yomikai help`` is generated from it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import cards, closing, export, group_setup, jobs, rotation, schedule, status, voting
from bot.archive import history, search
from bot.context import Invocation, Services, Tx
from bot.errors import UserError
from bot.i18n import Translator
from bot.jobs import JobPermit
from bot.meeting import changes as meeting
from bot.messages import Notice, Reply

Handler = Callable[[Tx, str], Reply]
"""A command's work inside one transaction: the invocation's argument text in, a reply out."""
Prepare = Callable[[Services, Invocation, datetime], Awaitable[Any]]

HEADLINE = ("nominate", "candidates", "vote", "summary", "card", "presenters", "search")
"""Commands that are slash commands of their own; everything else is under ``/yomikai``."""


@dataclass(frozen=True)
class Arg:
    """One argument of a command, as typed options show it (Discord's slash command options).

    ``joined`` says how its value joins the argument text the core parses: ``word`` (one word,
    quoted when it has spaces), ``rest`` (the rest of the line as typed), ``keyword``
    (``name value``, as ``/yomikai setup`` reads it) or ``field`` (a card field, ``field``).
    """

    name: str
    kind: str = "text"
    """``text``, ``number`` (``low``..``high``), ``member`` or ``choice`` (``choices``)."""
    describe: str = "discord.opt_text"
    """The catalog key of its description (``describe_ref`` fills its ``{field}``)."""
    required: bool = True
    joined: str = "word"
    low: int = 1
    high: int = 999_999
    suggest: str | None = None
    """Suggestions while typing: ``slots`` (this session's), ``candidates``, ``zones``."""
    choices: tuple[tuple[str, str], ...] = ()
    """(catalog key of the name, value) for ``choice``."""
    field: str = ""
    describe_ref: str = ""


def _slot(name: str = "n", describe: str = "discord.opt_slot") -> Arg:
    return Arg(name, "number", describe, suggest="slots")


def _card_field(name: str, field: str) -> Arg:
    ref = f"card.{field}"
    return Arg(
        name,
        describe="discord.opt_card_field",
        required=False,
        joined="field",
        field=field,
        describe_ref=ref,
    )


_DATE = Arg("date", describe="discord.opt_date", required=False)
_MEMBER = Arg("member", "member", "discord.opt_member")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class CommandSpec:
    path: str
    """``nominate`` or ``yomikai join``: what follows the slash."""
    handler: Handler | Callable[[Tx, str], JobPermit]
    usage: str
    example: str
    organizer: bool = False
    needs_group: bool = True
    prepare: Prepare | None = None
    job: str | None = None
    """Set for ``/yomikai poll|remind|meet``: after the handler's check, the core runs this job."""
    changes_schedule: bool = False
    args: tuple[Arg, ...] = ()
    """Its arguments as typed options; none for a command that takes none."""
    read_only: bool = False
    """Only shows: runs in a transaction that writes nothing (no member row is made either)."""

    @property
    def help_key(self) -> str:
        return "help." + self.path.replace(" ", "_")

    def usage_in(self, tr: Translator) -> str:
        """``usage`` in the listener's language (its placeholders translated, its keywords
        as they are typed); ``usage`` itself is what the Slack manifest shows."""
        return tr("usage." + self.path.replace(" ", "_"))

    def example_in(self, tr: Translator) -> str:
        return tr("example." + self.path.replace(" ", "_"))


async def _setup_defaults(services: Services, inv: Invocation, now: datetime) -> Any:
    return services.defaults


def _help(tx: Tx, text: str) -> Reply:
    lines = []
    for spec in COMMANDS:
        mark = " " + tx.tr("help.organizer_mark") if spec.organizer else ""
        lines.append(f"{spec.usage_in(tx.tr)} — {tx.tr(spec.help_key)}{mark}")
    title = tx.tr("help.title")
    return Reply.tell(Notice(title, title=title, lines=tuple(lines)))


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "nominate",
        voting.nominate,
        "/nominate <arXiv id or URL> [why]",
        '/nominate 2204.06974 "great backdoor paper"',
        prepare=voting.prepare_nomination,
        args=(
            Arg("paper", describe="discord.opt_paper", joined="rest"),
            Arg("why", describe="discord.opt_why", required=False, joined="rest"),
        ),
    ),
    CommandSpec("candidates", voting.candidates, "/candidates", "/candidates", read_only=True),
    CommandSpec(
        "vote",
        voting.vote,
        "/vote <n> [<m> …]",
        "/vote 2",
        args=(Arg("n", "number", "discord.opt_candidate", suggest="candidates"),),
    ),
    CommandSpec(
        "summary",
        cards.summary,
        "/summary <n> [YYYY-MM-DD]",
        "/summary 3",
        read_only=True,
        args=(_slot(), _DATE),
    ),
    CommandSpec(
        "card",
        cards.card,
        "/card <n> [field: text … | draft]",
        "/card 3 method: LoRA on ViT",
        args=(
            _slot(),
            Arg(
                "draft",
                "choice",
                "discord.opt_draft",
                required=False,
                choices=(("discord.choice_draft", "draft"),),
            ),
            _card_field("purpose", "purpose"),
            _card_field("results", "results"),
            _card_field("method", "method"),
            _card_field("model", "model_name"),
            _card_field("affiliations", "affiliations"),
            _card_field("summary", "summary"),
            _card_field("translation", "translated_title"),
            _card_field("translated_abstract", "translated_abstract"),
        ),
    ),
    CommandSpec("presenters", rotation.presenters, "/presenters", "/presenters", read_only=True),
    CommandSpec(
        "search",
        search.search,
        "/search <words>",
        "/search diffusion",
        read_only=True,
        args=(Arg("words", describe="discord.opt_search", joined="rest"),),
    ),
    CommandSpec("yomikai join", rotation.join, "/yomikai join", "/yomikai join"),
    CommandSpec("yomikai leave", rotation.leave, "/yomikai leave", "/yomikai leave"),
    CommandSpec(
        "yomikai take", rotation.take, "/yomikai take <n>", "/yomikai take 3", args=(_slot(),)
    ),
    CommandSpec(
        "yomikai drop", rotation.drop, "/yomikai drop <n>", "/yomikai drop 3", args=(_slot(),)
    ),
    CommandSpec(
        "yomikai away",
        rotation.away,
        "/yomikai away <YYYY-MM-DD>",
        "/yomikai away 2026-12-24",
        args=(Arg("date", describe="discord.opt_away"),),
    ),
    CommandSpec("yomikai back", rotation.back, "/yomikai back", "/yomikai back"),
    CommandSpec(
        "yomikai status", status.status, "/yomikai status", "/yomikai status", read_only=True
    ),
    CommandSpec(
        "yomikai history",
        history.history,
        "/yomikai history [@member]",
        "/yomikai history @alice",
        read_only=True,
        args=(Arg("member", "member", "discord.opt_member", required=False),),
    ),
    CommandSpec(
        "yomikai help", _help, "/yomikai help", "/yomikai help", needs_group=False, read_only=True
    ),
    CommandSpec(
        "yomikai setup",
        group_setup.setup,
        "/yomikai setup [timezone|day|time|papers|candidates|language|name|location|threads"
        " <value>] …",
        "/yomikai setup timezone Asia/Tokyo day wed time 17:00 language ja",
        organizer=True,
        needs_group=False,
        prepare=_setup_defaults,
        changes_schedule=True,
        args=(
            Arg(
                "timezone",
                describe="discord.opt_timezone",
                required=False,
                joined="keyword",
                suggest="zones",
            ),
            Arg(
                "day",
                "choice",
                "discord.opt_day",
                required=False,
                joined="keyword",
                choices=tuple((f"weekday.{day}", day) for day in _WEEKDAYS),
            ),
            Arg("time", describe="discord.opt_time", required=False, joined="keyword"),
            Arg(
                "papers",
                "number",
                "discord.opt_papers",
                required=False,
                joined="keyword",
                high=group_setup.MAX_PAPERS,
            ),
            Arg(
                "candidates",
                "number",
                "discord.opt_candidates",
                required=False,
                joined="keyword",
                high=group_setup.MAX_CANDIDATES,
            ),
            Arg(
                "language",
                "choice",
                "discord.opt_language",
                required=False,
                joined="keyword",
                choices=(("language.en", "en"), ("language.ja", "ja")),
            ),
            Arg("name", describe="discord.opt_name", required=False, joined="keyword"),
            Arg("location", describe="calendar.opt_location", required=False, joined="keyword"),
            Arg(
                "threads",
                "choice",
                "calendar.opt_threads",
                required=False,
                joined="keyword",
                choices=(("calendar.choice_on", "on"), ("calendar.choice_off", "off")),
            ),
        ),
    ),
    CommandSpec(
        "yomikai schedule",
        schedule.schedule_command,
        "/yomikai schedule [poll|open|close|remind|meet <day> <HH:MM> | off]",
        "/yomikai schedule open mon 10:00",
        organizer=True,
        changes_schedule=True,
        args=(Arg("text", required=False, joined="rest"),),
    ),
    CommandSpec(
        "yomikai poll", jobs.permit, "/yomikai poll", "/yomikai poll", organizer=True, job="poll"
    ),
    CommandSpec(
        "yomikai open", voting.open_voting, "/yomikai open", "/yomikai open", organizer=True
    ),
    CommandSpec(
        "yomikai close", closing.close_voting, "/yomikai close", "/yomikai close", organizer=True
    ),
    CommandSpec(
        "yomikai remind",
        jobs.permit,
        "/yomikai remind",
        "/yomikai remind",
        organizer=True,
        job="remind",
    ),
    CommandSpec(
        "yomikai meet", jobs.permit, "/yomikai meet", "/yomikai meet", organizer=True, job="meet"
    ),
    CommandSpec(
        "yomikai assign",
        rotation.assign,
        "/yomikai assign <n> @member",
        "/yomikai assign 3 @carol",
        organizer=True,
        args=(_slot(), _MEMBER),
    ),
    CommandSpec(
        "yomikai swap",
        rotation.swap,
        "/yomikai swap <n> <m>",
        "/yomikai swap 2 4",
        organizer=True,
        args=(_slot(), _slot("m", "discord.opt_other_slot")),
    ),
    CommandSpec(
        "yomikai move",
        meeting.move,
        "/yomikai move <YYYY-MM-DD> <YYYY-MM-DD> [HH:MM]",
        "/yomikai move 2026-12-09 2026-12-10 18:00",
        organizer=True,
        changes_schedule=True,  # (a moved meeting's cards are posted at its new time)
        args=(
            Arg("date", describe="calendar.opt_from"),
            Arg("to", describe="calendar.opt_to"),
            Arg("time", describe="calendar.opt_time", required=False),
        ),
    ),
    CommandSpec(
        "yomikai cancel",
        meeting.cancel,
        "/yomikai cancel <YYYY-MM-DD>",
        "/yomikai cancel 2026-12-09",
        organizer=True,
        changes_schedule=True,
        args=(Arg("date", describe="calendar.opt_cancel"),),
    ),
    CommandSpec(
        "yomikai calendar",
        meeting.calendar_command,
        "/yomikai calendar",
        "/yomikai calendar",
        organizer=True,
        read_only=True,
    ),
    CommandSpec(
        "yomikai organizer",
        group_setup.organizer,
        "/yomikai organizer @member",
        "/yomikai organizer @bob",
        organizer=True,
        args=(_MEMBER,),
    ),
    CommandSpec(
        "yomikai export",
        export.export_session,
        "/yomikai export [YYYY-MM-DD] [md|html|pdf]",
        "/yomikai export 2026-12-09 html",
        organizer=True,
        args=(
            _DATE,
            Arg(
                "format",
                "choice",
                "discord.opt_format",
                required=False,
                choices=(
                    ("deck.format_md", "md"),
                    ("deck.format_html", "html"),
                    ("deck.format_pdf", "pdf"),
                ),
            ),
        ),
    ),
)

_BY_PATH = {spec.path: spec for spec in COMMANDS}
HOME = "yomikai"
"""The command every subcommand is declared under (on Discord, organizers' move to their own)."""
_ORGANIZER_SUBS = [
    spec.path.split(" ", 1)[1] for spec in COMMANDS if spec.organizer and " " in spec.path
]
_ORGANIZER_MENTION = re.compile(rf"/{HOME} ({'|'.join(_ORGANIZER_SUBS)})\b")


def spelling(organizer_command: str) -> Callable[[str], str]:
    """Rewrites ``/yomikai open`` as ``/<organizer_command> open`` in the words the bot says.

    For platforms that list organizers' subcommands under a command of their own
    (``Invocation.organizer_command``); members' subcommands keep their ``/yomikai``.
    """

    def spell(text: str) -> str:
        if organizer_command == HOME:
            return text
        return _ORGANIZER_MENTION.sub(rf"/{organizer_command} \1", text)

    return spell


def resolve(command: str, text: str) -> tuple[CommandSpec, str]:
    """The spec a typed command means and the argument text left for it.

    ``("yomikai", "take 3")`` → (``yomikai take``, ``"3"``); an empty ``/yomikai`` is help.
    """
    name, more = (*command.split(None, 1), "", "")[:2]  # ("yomikai\tstatus": one word too many)
    name, text = name.lstrip("/").lower(), f"{more} {text}".strip()
    if name == "yomikai":
        sub, rest = (*text.split(None, 1), "", "")[:2]  # (any whitespace separates words)
        path = f"yomikai {sub.lower() or 'help'}"
        if path in _BY_PATH:
            return _BY_PATH[path], rest.strip()
        subs = [p.split(" ", 1)[1] for p in _BY_PATH if p.startswith("yomikai ")]
        near = difflib.get_close_matches(sub.lower(), subs, n=1)
        if near:
            raise UserError("command.unknown_sub", sub=sub[:40], near=near[0])
        raise UserError("command.unknown_sub_plain", sub=sub[:40])
    if name in _BY_PATH:
        return _BY_PATH[name], text.strip()
    raise UserError("command.unknown", name=name[:40])
