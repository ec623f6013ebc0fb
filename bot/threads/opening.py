"""The first message of a card's thread, made from the card as it is posted."""

from __future__ import annotations

from bot.messages import SummaryCard, ThreadOpening


def opening(card: SummaryCard, slot_id: int) -> ThreadOpening:
    return ThreadOpening(card.locale, slot_id, card.number, card.title, card.presenter)
