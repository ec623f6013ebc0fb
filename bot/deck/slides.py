"""A session's deck as plain values: the title slide, the agenda, and the slides of each paper.

Long text never overflows a slide: an abstract continues on further slides, and a card's fields
are spread over as many slides as they need (``ROOM``, in characters, a CJK one counting two).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.drafting.text import sentences
from bot.i18n import t
from bot.messages import CardField, SummaryCard
from bot.views import summary_card
from storage.models import Group, Member, Nomination, PoolEntry, ReadingSession
from storage.queries import find_group, sessions_of, slots_of

ROOM = 1100
"""How much text one slide holds at its type size (CJK characters count double)."""

SOURCE_KEYS = {"huggingface": "deck.source_hf", "paperswithcode": "deck.source_pwc"}


@dataclass(frozen=True)
class AgendaItem:
    number: int
    title: str
    translated_title: str
    presenter: str | None
    source: str
    """Where the paper came from: "trending on Hugging Face", "nominated by alice, bob"."""


@dataclass(frozen=True)
class PaperSlide:
    """One slide of a paper: its titles and link, and either a part of its abstract or some
    of its card's fields."""

    card: SummaryCard
    abstract: str = ""
    abstract_label: str = ""
    continued: bool = False
    fields: tuple[CardField, ...] = ()
    summary: str = ""

    def heading(self) -> str:
        """``3. Title`` (and "(continued)" on a paper's later slides)."""
        heading = f"{self.card.number}. {self.card.title}"
        return f"{heading} {t(self.card.locale, 'deck.continued')}" if self.continued else heading


@dataclass(frozen=True)
class Deck:
    locale: str
    meets_at: datetime
    """In the group's time zone."""
    timezone: str
    agenda: tuple[AgendaItem, ...]
    slides: tuple[PaperSlide, ...] = field(default_factory=tuple)

    group_name: str = ""

    @property
    def title(self) -> str:
        day = f"{self.meets_at:%Y-%m-%d}"
        if self.group_name:
            return t(self.locale, "deck.title_named", name=self.group_name, date=day)
        return t(self.locale, "deck.title", date=day)

    def filename(self, extension: str) -> str:
        return f"yomikai-{self.meets_at:%Y-%m-%d}.{extension}"


def weight(text: str) -> int:
    """Room text takes on a slide: a wide (CJK) character counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def session_deck(session: Session, group: Group, reading: ReadingSession) -> Deck:
    assert reading.id is not None and group.id is not None
    zone = ZoneInfo(group.timezone)
    agenda: list[AgendaItem] = []
    slides: list[PaperSlide] = []
    for slot in slots_of(session, reading.id):
        card = summary_card(session, group, reading, slot)
        agenda.append(
            AgendaItem(
                slot.number,
                card.title,
                card.translated_title,
                card.presenter.name if card.presenter else None,
                _source(session, group, slot.paper_id),
            )
        )
        slides += paper_slides(card)
    return Deck(
        locale=group.locale,
        meets_at=reading.meets_at.astimezone(zone),
        timezone=group.timezone,
        agenda=tuple(agenda),
        slides=tuple(slides),
        group_name=group.name,
    )


def paper_slides(card: SummaryCard) -> list[PaperSlide]:
    """The abstract (translated where the card has it, else the English one) over as many
    slides as it needs, then the summary and the five fields over as many as they need."""
    loc = card.locale
    translated = bool(card.translated_abstract)
    label = t(loc, "card.translated_abstract" if translated else "render.abstract")
    abstract = card.translated_abstract or card.abstract
    slides = [
        PaperSlide(card, abstract=part, abstract_label=label, continued=index > 0)
        for index, part in enumerate(_pieces(abstract))
    ]
    groups: list[list[CardField]] = [[]]
    used = weight(card.summary)
    for item in card.fields:
        size = weight(item.value) + 40
        if groups[-1] and used + size > ROOM:
            groups.append([])
            used = 0
        groups[-1].append(item)
        used += size
    for index, chunk in enumerate(groups):
        summary = card.summary if index == 0 else ""
        slides.append(PaperSlide(card, fields=tuple(chunk), summary=summary, continued=index > 0))
    return slides


def _pieces(text: str) -> list[str]:
    """``text`` cut at sentence ends into pieces that fit a slide (a too-long sentence alone)."""
    if not text.strip():
        return []
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        for sentence in sentences(" ".join(paragraph.split())) or [paragraph]:
            joined = f"{current} {sentence}".strip() if current else sentence
            if current and weight(joined) > ROOM:
                pieces.append(current)
                current = sentence
            else:
                current = joined
        current += "\n\n"
    pieces.append(current)
    pieces = [piece.strip() for piece in pieces if piece.strip()]
    # A single sentence longer than a slide is cut at the slide's room.
    fitted: list[str] = []
    for piece in pieces:
        while weight(piece) > ROOM:
            cut = _cut_at(piece, ROOM)
            fitted.append(piece[:cut].rstrip())
            piece = piece[cut:].lstrip()
        fitted.append(piece)
    return fitted


def _cut_at(text: str, room: int) -> int:
    used = 0
    for index, character in enumerate(text):
        used += weight(character)
        if used > room:
            space = text.rfind(" ", 0, index)
            return space if space > index // 2 else index
    return len(text)


def _source(session: Session, group: Group, paper_id: int) -> str:
    """ "nominated by alice, bob" or "trending on Hugging Face" (in the group's language)."""
    loc = group.locale
    names = session.exec(
        select(Member.display_name)
        .join(Nomination, col(Nomination.member_id) == col(Member.id))
        .where(Nomination.group_id == group.id, Nomination.paper_id == paper_id)
        .order_by(col(Nomination.created_at))
    ).all()
    if names:
        return t(loc, "deck.source_nominated", names=t(loc, "render.separator").join(names))
    entry = session.exec(
        select(PoolEntry).where(PoolEntry.group_id == group.id, PoolEntry.paper_id == paper_id)
    ).first()
    if entry is None:
        return ""
    key = SOURCE_KEYS.get(entry.source, "deck.source_arxiv")
    return t(loc, key)


class NoSuchSession(LookupError):
    """``yomikai export`` could not tell which session is meant; the message says why."""


def find_session(
    session: Session, channel: str | None, day: date | None
) -> tuple[Group, ReadingSession]:
    """The group (by channel; the only one when ``channel`` is None) and its session on
    ``day`` (the next one, else the latest, when ``day`` is None)."""
    group = find_group(session, channel)
    zone = ZoneInfo(group.timezone)
    readings = sessions_of(session, group.id or 0)
    if not readings:
        raise NoSuchSession("the group has no session yet (a session is made when a round closes)")
    if day is None:
        return group, readings[-1]
    for reading in readings:
        if reading.meets_at.astimezone(zone).date() == day:
            return group, reading
    known = ", ".join(r.meets_at.astimezone(zone).date().isoformat() for r in readings[-5:])
    raise NoSuchSession(f"no session on {day.isoformat()} (sessions: {known})")
