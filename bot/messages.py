"""Platform-neutral messages: what to show. Each adapter decides how (Block Kit, embeds, rich).

Text inside these values is plain and unescaped, exactly as users and arXiv wrote it; escaping for
a platform's markup is the adapter's job. Labels are looked up by adapters with
``bot.i18n.t(message.locale, …)`` so every platform says the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.drafting.draft import SOURCES
from bot.i18n import t

CARD_FIELDS = ("purpose", "results", "method", "model_name", "affiliations")
"""The five fields that make a card finished, in the order a card shows them."""

CARD_EXTRAS = ("summary", "translated_title", "translated_abstract")
"""Optional parts of a card."""


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str


@dataclass(frozen=True)
class Notice:
    """Plain information: a sentence, or a titled list of lines."""

    text: str
    title: str | None = None
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A user's mistake, explained: what was wrong, what was expected, and an example."""

    text: str
    usage: str | None = None
    example: str | None = None
    locale: str = "en"


@dataclass(frozen=True)
class CandidateLine:
    number: int
    candidate_id: int
    arxiv_id: str
    title: str
    url: str
    votes: int
    nominations: int
    trending_score: float


VOTE_ID = r"vote:(?P<round>\d{1,18}):(?P<candidate>\d{1,18})"
"""A vote button's id: its meaning lives in it, so a click still works after a restart."""


def vote_id(round_id: int, candidate_id: int) -> str:
    return f"vote:{round_id}:{candidate_id}"


def parse_vote_id(text: str) -> tuple[int, int] | None:
    """``vote:<round>:<candidate>`` → (round id, candidate id); None for anything else."""
    match = re.fullmatch(VOTE_ID, text)
    return (int(match["round"]), int(match["candidate"])) if match else None


@dataclass(frozen=True)
class CandidateList:
    """The ballot of a round; adapters give each line a vote button ``vote:<round>:<candidate>``."""

    locale: str
    round_id: int
    candidates: tuple[CandidateLine, ...]
    open: bool = True


@dataclass(frozen=True)
class AgendaSlot:
    number: int
    arxiv_id: str
    title: str
    url: str
    presenter: Person | None
    card_finished: bool


@dataclass(frozen=True)
class Agenda:
    """A session's papers in slot order and who presents each; ``meets_at`` in the group's zone."""

    locale: str
    meets_at: datetime
    slots: tuple[AgendaSlot, ...]
    event: MeetingEvent | None = None
    """The session as a calendar event: adapters attach its ``.ics`` or link to Google
    Calendar's form (``bot.meeting``); fresh, with a higher revision, after every change."""
    calendar_url: str = ""
    """Where the bot serves the session's ``.ics`` (when it has a public address)."""


@dataclass(frozen=True)
class CardField:
    key: str
    value: str
    drafted: bool = False
    """The text is the bot's draft, not yet saved by a person."""
    source: str = ""
    """Where drafted text came from (``abstract``, ``author block``, … or a model's name)."""

    def label(self, locale: str) -> str:
        """The field's name, marked while its text is a draft."""
        name = t(locale, f"card.{self.key}")
        return t(locale, "render.drafted_label", field=name) if self.drafted else name


@dataclass(frozen=True)
class Question:
    """A message a member wrote in a paper's thread, kept for the meeting."""

    author: str
    text: str
    asked_at: datetime


@dataclass(frozen=True)
class SummaryCard:
    locale: str
    number: int
    meets_at: datetime
    arxiv_id: str
    title: str
    url: str
    translated_title: str
    summary: str
    fields: tuple[CardField, ...]
    presenter: Person | None
    abstract: str = ""
    translated_abstract: str = ""
    notes: tuple[str, ...] = ()
    """What drafting could not do, as catalog keys (``draft.note.*``), in small print."""
    drafting: bool = False
    """A draft is being written (the card fills in shortly)."""
    extras_drafted: tuple[str, ...] = ()
    """Which of summary, translated title and translated abstract are still drafts."""
    thread: str = ""
    """Where the paper's discussion thread is (a link), once the card was posted with one."""
    questions: tuple[Question, ...] = ()
    """What members asked in that thread, oldest first."""
    mentioned_in_thread: bool = False
    """The card is posted with a thread that mentions its presenter: the card itself names
    them without a mention (one notification, in the thread)."""

    @property
    def finished(self) -> bool:
        """Every field set by a person (a draft counts once its presenter saved it)."""
        return all(f.value and not f.drafted for f in self.fields)

    @property
    def missing(self) -> tuple[str, ...]:
        """Fields a person still has to write or confirm."""
        return tuple(f.key for f in self.fields if not f.value or f.drafted)

    @property
    def drafted(self) -> bool:
        return any(f.drafted for f in self.fields) or bool(self.extras_drafted)

    def sources(self) -> dict[str, tuple[str, ...]]:
        """Source → the fields whose text it gave, in card order (the small print)."""
        found: dict[str, list[str]] = {}
        for item in self.fields:
            if item.value and item.source:
                found.setdefault(item.source, []).append(item.key)
        return {source: tuple(keys) for source, keys in found.items()}

    def question_lines(self, limit: int = 5) -> tuple[str, ...]:
        """The thread's questions as "name: text" lines, the oldest ``limit``, then how many
        more the thread holds."""
        lines = [
            t(self.locale, "thread.question_line", author=q.author, text=q.text)
            for q in self.questions[:limit]
        ]
        if len(self.questions) > limit:
            lines.append(t(self.locale, "thread.more", count=len(self.questions) - limit))
        return tuple(lines)

    def small_print(self) -> tuple[str, ...]:
        """The lines under a card: a draft on its way, where drafted text came from, and
        what drafting could not do."""
        loc = self.locale
        separator = t(loc, "render.separator")
        lines = [t(loc, "render.drafting")] if self.drafting else []
        said = [
            t(
                loc,
                "render.source_line",
                source=source_name(loc, source),
                fields=separator.join(t(loc, f"card.{key}") for key in keys),
            )
            for source, keys in self.sources().items()
        ]
        if said:
            lines.append(
                t(loc, "render.sources", sources=t(loc, "render.source_separator").join(said))
            )
        lines += [t(loc, key) for key in self.notes]
        return tuple(lines)


def more_institutions(locale: str, count: int) -> str:
    """``+12 more``: the institutions a card leaves out."""
    return t(locale, "draft.more", count=count)


def source_name(locale: str, source: str) -> str:
    """A source as the catalog names it (``draft.source.*``); any other is a model's name."""
    return t(locale, f"draft.source.{source}") if source in SOURCES else source


@dataclass(frozen=True)
class CardForm:
    """Ask the presenter for a card's fields (a modal on Slack/Discord, prompts in the console);
    the values shown include the draft, and saving the form makes them the presenter's."""

    locale: str
    number: int
    title: str
    values: dict[str, str] = field(default_factory=dict)
    drafted: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reminder:
    """A nudge to one presenter whose card is not finished (sent as a direct message)."""

    locale: str
    number: int
    title: str
    url: str
    meets_at: datetime
    missing: tuple[str, ...]

    def heading(self) -> str:
        return t(self.locale, "reminder.title", number=self.number)

    def body(self, title: str | None = None) -> str:
        """The reminder's sentence; an adapter may pass the title cut short for its limits."""
        names = (t(self.locale, f"card.{key}") for key in self.missing)
        return t(
            self.locale,
            "reminder.body",
            date=f"{self.meets_at:%Y-%m-%d %H:%M}",
            title=self.title if title is None else title,
            missing=t(self.locale, "render.separator").join(names),
            number=self.number,
        )


@dataclass(frozen=True)
class SessionExport:
    """A whole session's cards as one document (``/yomikai export``), for notes or a wiki."""

    locale: str
    meets_at: datetime
    cards: tuple[SummaryCard, ...]

    @property
    def filename(self) -> str:
        return f"yomikai-{self.meets_at:%Y-%m-%d}.md"

    def intro(self) -> str:
        """The line that goes with the document: which session, how many cards."""
        day = f"{self.meets_at:%Y-%m-%d}"
        return t(self.locale, "render.export_intro", date=day, count=len(self.cards))


DECK_FORMATS = ("md", "html", "pdf")
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf"}


@dataclass(frozen=True)
class DeckPost:
    """A session's deck to post as a file (``/yomikai export … html``, the meeting's cards).

    What the outbox keeps: the deck is made from the database when it is sent
    (``bot.delivery``), so adapters receive it as a ``DeckFile``."""

    locale: str
    session_id: int
    format: str
    meets_at: datetime


@dataclass(frozen=True)
class DeckFile:
    """A deck made, as adapters upload it: a file with its name, type and a line to go with it."""

    locale: str
    filename: str
    media_type: str
    data: bytes
    intro: str


@dataclass(frozen=True)
class ThreadOpening:
    """The first message of a posted card's discussion thread: it names the presenter (the one
    mention the bot makes) and asks for questions. ``parent_key`` is the card post's outbox key;
    the thread is started under that post once it is out (``bot.threads``)."""

    locale: str
    slot_id: int
    number: int
    title: str
    presenter: Person | None
    parent_key: str = ""

    @classmethod
    def of(cls, card: SummaryCard, slot_id: int) -> ThreadOpening:
        """The opening of the thread under ``card`` (slot ``slot_id``), as it is posted."""
        return cls(card.locale, slot_id, card.number, card.title, card.presenter)

    def text(self, presenter: str, title: str | None = None) -> str:
        """The opening line, the presenter as the platform mentions them (``<@U…>``); an
        adapter may pass the title cut short, or escaped, for its markup."""
        title = self.title if title is None else title
        if self.presenter is None:
            return t(self.locale, "thread.opening_open", number=self.number, title=title)
        return t(
            self.locale, "thread.opening", presenter=presenter, number=self.number, title=title
        )


@dataclass(frozen=True)
class MeetingEvent:
    """A session as a calendar shows it (``bot.meeting``): the iCalendar event and a
    platform's own event (a Discord Guild Scheduled Event) are both made from this."""

    locale: str
    session_id: int
    uid: str
    """Stays the same through every change, so an update replaces the event."""
    revision: int
    """iCalendar's SEQUENCE: grows with every change."""
    title: str
    starts_at: datetime
    """In the group's zone (``zone``)."""
    ends_at: datetime
    zone: str
    location: str
    papers: tuple[str, ...]
    """"1. Title — presenter" lines, in slot order."""
    cancelled: bool = False
    url: str = ""
    """Where the agenda is, when known."""

    @property
    def description(self) -> str:
        return "\n".join(self.papers)


Message = (
    Notice
    | Problem
    | CandidateList
    | Agenda
    | SummaryCard
    | CardForm
    | Reminder
    | SessionExport
    | DeckPost
    | DeckFile
    | ThreadOpening
    | MeetingEvent
)


@dataclass(frozen=True)
class Reply:
    """What one command produced: ``private`` goes to the invoker only, ``public`` to the channel.

    ``round_changed`` names a round whose posted candidate list should be redrawn in place.
    """

    private: tuple[Message, ...] = ()
    public: tuple[Message, ...] = ()
    round_changed: int | None = None
    session_changed: int | None = None
    """A session whose calendar event (on platforms that keep one) should show it anew."""
    locale: str | None = None
    """The group's language, for any words an adapter adds (set by the core)."""

    @classmethod
    def tell(cls, *messages: Message) -> Reply:
        return cls(private=messages)

    @classmethod
    def announce(cls, *messages: Message) -> Reply:
        return cls(public=messages)
