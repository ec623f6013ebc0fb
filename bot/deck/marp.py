"""The deck as Marp-compatible Markdown: front matter ``marp: true``, ``---`` between slides.

Every text from a paper, a card or a member is escaped (``bot.markdown``): it can never start a
heading, a list or a new slide, nor carry HTML, a link or a mention.
"""

from __future__ import annotations

from bot.deck.slides import Deck, PaperSlide
from bot.i18n import t
from bot.markdown import cell, escape


def deck_markdown(deck: Deck) -> str:
    loc = deck.locale
    slides = [_title(deck), _agenda(deck), *(_paper(deck, slide) for slide in deck.slides)]
    front = f"---\nmarp: true\npaginate: true\nlang: {loc}\ntitle: {escape(deck.title)}\n---\n\n"
    return front + "\n\n---\n\n".join(slides) + "\n"


def _title(deck: Deck) -> str:
    when = t(deck.locale, "deck.when", time=f"{deck.meets_at:%Y-%m-%d %H:%M}", zone=deck.timezone)
    return f"# {escape(deck.title)}\n\n{escape(when)}"


def _agenda(deck: Deck) -> str:
    loc = deck.locale
    head = [t(loc, f"deck.column_{name}") for name in ("number", "paper", "presenter", "source")]
    rows = [f"| {' | '.join(cell(h) for h in head)} |", "|---|---|---|---|"]
    for item in deck.agenda:
        paper = cell(item.title)
        if item.translated_title:
            paper += f"<br>{cell(item.translated_title)}"
        who = cell(item.presenter or t(loc, "deck.open_slot"))
        rows.append(f"| {item.number} | {paper} | {who} | {cell(item.source)} |")
    return f"## {escape(t(loc, 'deck.agenda'))}\n\n" + "\n".join(rows)


def _paper(deck: Deck, slide: PaperSlide) -> str:
    loc = deck.locale
    card = slide.card
    lines = [f"## {escape(slide.heading())}", ""]
    if card.translated_title:
        lines += [escape(card.translated_title), ""]
    lines += [f"<{card.url}>", ""]
    if slide.abstract:
        lines += [f"**{escape(slide.abstract_label)}**", "", escape(slide.abstract), ""]
    if slide.summary:
        lines += [f"**{escape(t(loc, 'card.summary'))}**", "", escape(slide.summary), ""]
    for item in slide.fields:
        value = escape(item.value) if item.value else f"*{escape(t(loc, 'render.not_yet'))}*"
        lines += [f"**{escape(item.label(loc))}**: {value}", ""]
    if card.presenter and (slide.fields or not slide.continued):
        who = t(loc, "render.labelled", label=t(loc, "render.presenter"), value=card.presenter.name)
        lines.append(f"*{escape(who)}*")
    return "\n".join(lines).rstrip()
