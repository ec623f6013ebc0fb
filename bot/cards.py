"""Summary cards: ``/card n`` to write one (presenter or organizer), ``/summary n`` to read it."""

from __future__ import annotations

import re
from functools import partial

from bot import args
from bot.context import Tx
from bot.drafting.draft import PENDING, Draft
from bot.errors import UserError
from bot.i18n import Phrase, t
from bot.messages import CARD_EXTRAS, CARD_FIELDS, CardForm, Notice, Reply, more_institutions
from bot.sessions import current_session, session_on, slot_by_number, slot_parts_by_number
from bot.views import summary_card_of
from storage.models import Card, Paper, ReadingSession, Slot
from storage.queries import card_of

FIELD_LIMIT = 1000
SUMMARY_LIMIT = 3000
FIELD_NAMES = {
    "purpose": "purpose",
    "目的": "purpose",
    "results": "results",
    "result": "results",
    "成果": "results",
    "method": "method",
    "方法": "method",
    "model": "model_name",
    "model_name": "model_name",
    "モデル名": "model_name",
    "affiliations": "affiliations",
    "affiliation": "affiliations",
    "著者所属": "affiliations",
    "所属": "affiliations",
    "summary": "summary",
    "要約": "summary",
    "要旨の訳": "translated_abstract",
    "translation": "translated_title",
    "translated_title": "translated_title",
    "訳題": "translated_title",
    "タイトル訳": "translated_title",
    "translated_abstract": "translated_abstract",
    "abstract_translation": "translated_abstract",
    "要旨訳": "translated_abstract",
    "アブストラクト訳": "translated_abstract",
}
DRAFT_WORDS = {"draft", "redraft", "下書き"}
"""``/card 3 draft``: write card 3's draft again."""
LONG_PARTS = ("summary", "translated_abstract")
_FIELD_MARK = re.compile(
    r"(?:^|\s)("
    + "|".join(sorted(map(re.escape, FIELD_NAMES), key=len, reverse=True))
    + r")\s*[:：]",
    re.IGNORECASE,
)


def parse_fields(text: str) -> dict[str, str]:
    """``purpose: … method: …`` → ``{"purpose": "…", "method": "…"}`` (English or Japanese keys)."""
    marks = list(_FIELD_MARK.finditer(text))
    if not marks:
        raise UserError("card.no_fields")
    if text[: marks[0].start()].strip():
        raise UserError("card.no_fields")
    fields: dict[str, str] = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(text)
        key = FIELD_NAMES[mark.group(1).lower()]
        value = text[mark.end() : end].strip()
        fields[key] = value
    return check_fields(fields)


def check_fields(fields: dict[str, str]) -> dict[str, str]:
    """Known keys only, trimmed, within their length limits."""
    checked = {}
    for key, value in fields.items():
        if key not in CARD_FIELDS + CARD_EXTRAS:
            raise UserError("card.no_fields")
        limit = SUMMARY_LIMIT if key in LONG_PARTS else FIELD_LIMIT
        if len(value.strip()) > limit:
            raise UserError(
                "card.too_long", field=Phrase(f"card.{key}"), limit=limit, show_usage=False
            )
        checked[key] = value.strip()
    return checked


def editable_slot(tx: Tx, number: int) -> Slot:
    slot = slot_by_number(tx, current_session(tx), number)
    if slot.presenter_id != tx.me.id and not tx.me.is_organizer:
        raise UserError("card.not_presenter", number=slot.number, show_usage=False)
    return slot


def card(tx: Tx, text: str) -> Reply:
    number_word, _, rest = text.strip().partition(" ")
    slot = editable_slot(tx, args.number(number_word or None))
    assert slot.id is not None
    existing = card_of(tx.session, slot.id)
    if not rest.strip():
        paper = tx.session.get(Paper, slot.paper_id)
        values = {k: getattr(existing, k) if existing else "" for k in CARD_FIELDS + CARD_EXTRAS}
        drafted = frozenset(existing.drafted) if existing else frozenset()
        title = paper.title if paper else ""
        return Reply.tell(CardForm(tx.bound_group.locale, slot.number, title, values, drafted))
    if rest.strip().casefold() in DRAFT_WORDS:
        return request_draft(tx, slot, existing)
    return save_card(tx, slot, parse_fields(rest))


def request_draft(tx: Tx, slot: Slot, existing: Card | None) -> Reply:
    """Mark the card to be drafted again (in the background); a person's text stays."""
    assert slot.id is not None
    if not tx.drafting:
        raise UserError("card.no_drafting", number=slot.number, show_usage=False)
    current = existing or Card(slot_id=slot.id, updated_at=tx.now)
    current.draft_state = PENDING
    current.draft_attempts = 0
    current.draft_lease_until = None
    tx.session.add(current)
    return Reply.tell(Notice(tx.tr("card.draft_queued", number=slot.number)))


def apply_draft(card: Card, draft: Draft, locale: str) -> None:
    """Write ``draft`` into the parts of ``card`` that are empty or still a draft; what a
    person wrote is never touched."""
    drafted = set(card.drafted)
    sources = dict(card.sources)
    separator = t(locale, "render.separator")
    for key, value in draft.parts(separator, partial(more_institutions, locale)).items():
        if getattr(card, key).strip() and key not in drafted:
            continue  # a person's text
        setattr(card, key, value)
        drafted.add(key)
        source = draft.sources.get(key)
        if source:
            sources[key] = source
        else:
            sources.pop(key, None)
    card.drafted = [key for key in CARD_FIELDS + CARD_EXTRAS if key in drafted]
    card.sources = sources
    card.draft_notes = list(draft.notes)


def save_card(tx: Tx, slot: Slot, fields: dict[str, str]) -> Reply:
    """Store the given fields of slot's card and say what is still missing."""
    assert slot.id is not None
    current = card_of(tx.session, slot.id) or Card(slot_id=slot.id, updated_at=tx.now)
    sources = dict(current.sources)
    for key, value in fields.items():
        if value != getattr(current, key):
            sources.pop(key, None)  # the person's own words now
        setattr(current, key, value)
    current.drafted = [key for key in current.drafted if key not in fields]
    current.sources = sources
    current.updated_at = tx.now
    current.updated_by_id = tx.me.id
    tx.session.add(current)
    missing = [
        tx.tr(f"card.{key}")
        for key in CARD_FIELDS
        if not getattr(current, key).strip() or key in current.drafted
    ]
    reading = tx.session.get(ReadingSession, slot.session_id)
    assert reading is not None
    day = f"{reading.meets_at.astimezone(tx.zone):%Y-%m-%d}"  # which session this card is of
    if missing:
        text = tx.tr(
            "card.saved_missing",
            number=slot.number,
            date=day,
            missing=tx.tr("render.separator").join(missing),
        )
    else:
        text = tx.tr("card.saved_finished", number=slot.number, date=day)
    return Reply.tell(Notice(text))


def summary(tx: Tx, text: str) -> Reply:
    words = args.at_most(text, 2)
    number = args.number(words[0] if words else None)
    reading = session_on(tx, args.day(words[1])) if len(words) > 1 else current_session(tx)
    parts = slot_parts_by_number(tx, reading, number)
    return Reply.tell(summary_card_of(tx.session, tx.bound_group, reading, parts))
