"""A ``DeckPost`` made into the ``DeckFile`` an adapter uploads, when the post is sent."""

from __future__ import annotations

from sqlmodel import Session

from bot.deck.html import deck_html
from bot.deck.marp import deck_markdown
from bot.deck.pdf import NoChromium, PrintFailed, deck_pdf
from bot.deck.slides import Deck, session_deck
from bot.delivery.errors import DeliveryError
from bot.i18n import t
from bot.messages import MEDIA_TYPES, DeckFile, DeckPost
from bot.unit import Unit
from storage.models import Group, ReadingSession


class DeckMaker:
    def __init__(self, unit: Unit, chromium: str | None = None) -> None:
        self.unit = unit
        self.chromium = chromium
        """``YOMIKAI_CHROMIUM``: the browser that prints PDF (else the first on the PATH)."""

    async def make(self, post: DeckPost) -> DeckFile:
        """The deck as it is now; a PDF without Chromium is refused for good, with a notice."""
        deck = await self.unit.in_thread(lambda s: _deck(s, post.session_id), read_only=True)
        if deck is None:
            raise DeliveryError("the session is gone", transient=False)
        if post.format == "md":
            data = deck_markdown(deck).encode("utf-8")
        elif post.format == "html":
            data = deck_html(deck).encode("utf-8")
        else:
            try:
                data = await deck_pdf(deck_html(deck), self.chromium)
            except NoChromium:
                raise DeliveryError(
                    "no Chromium to print PDF", transient=False, notice_key="deck.no_chromium"
                ) from None
            except PrintFailed as error:
                raise DeliveryError(str(error), transient=True) from None
        slides = 2 + len(deck.slides)
        intro = t(post.locale, "deck.intro", title=deck.title, slides=slides)
        name = deck.filename(post.format)
        return DeckFile(post.locale, name, MEDIA_TYPES[post.format], data, intro)


def _deck(session: Session, session_id: int) -> Deck | None:
    reading = session.get(ReadingSession, session_id)
    group = session.get(Group, reading.group_id) if reading else None
    if reading is None or group is None:
        return None
    return session_deck(session, group, reading)
