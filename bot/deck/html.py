"""The deck as one self-contained HTML file: styles and script inline, nothing from the network.

Each slide is a ``<section>``. Arrow keys, Page Up/Down, space and clicks move; ``f`` toggles
full screen; a counter shows ``n / total``; printing gives one slide per page. Every text from a
paper, a card or a member is HTML-escaped into element content: none of it is ever inside the
script, an attribute other than a link's ``href`` (always an arXiv URL), or a style.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from bot.deck.slides import Deck, PaperSlide
from bot.i18n import t

ASSETS = Path(__file__).parent / "assets"
STYLE = (ASSETS / "deck.css").read_text("utf-8")
SCRIPT = (ASSETS / "deck.js").read_text("utf-8")


def deck_html(deck: Deck) -> str:
    loc = deck.locale
    sections = [_title(deck), _agenda(deck), *(_paper(deck, slide) for slide in deck.slides)]
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(loc)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{escape(deck.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        '<main id="deck">\n' + "\n".join(sections) + "\n</main>\n"
        '<div id="counter" aria-live="polite"></div>\n'
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def _title(deck: Deck) -> str:
    when = t(deck.locale, "deck.when", time=f"{deck.meets_at:%Y-%m-%d %H:%M}", zone=deck.timezone)
    return (
        f'<section class="slide title"><h1>{escape(deck.title)}</h1><p>{escape(when)}</p></section>'
    )


def _agenda(deck: Deck) -> str:
    loc = deck.locale
    head = "".join(
        f"<th>{escape(t(loc, f'deck.column_{name}'))}</th>"
        for name in ("number", "paper", "presenter", "source")
    )
    rows = []
    for item in deck.agenda:
        paper = escape(item.title)
        if item.translated_title:
            paper += f'<div class="translated">{escape(item.translated_title)}</div>'
        who = escape(item.presenter or t(loc, "deck.open_slot"))
        rows.append(
            f"<tr><td>{item.number}</td><td>{paper}</td><td>{who}</td>"
            f'<td class="sub">{escape(item.source)}</td></tr>'
        )
    return (
        f'<section class="slide"><h2>{escape(t(loc, "deck.agenda"))}</h2>'
        f"<table><tr>{head}</tr>{''.join(rows)}</table></section>"
    )


def _paper(deck: Deck, slide: PaperSlide) -> str:
    loc = deck.locale
    card = slide.card
    parts = [f"<h2>{escape(slide.heading())}</h2>"]
    if card.translated_title:
        parts.append(f'<p class="translated">{escape(card.translated_title)}</p>')
    parts.append(f'<p class="link"><a href="{escape(card.url)}">{escape(card.url)}</a></p>')
    if slide.abstract:
        parts += [f"<h3>{escape(slide.abstract_label)}</h3>", f"<p>{escape(slide.abstract)}</p>"]
    if slide.summary:
        parts += [f"<h3>{escape(t(loc, 'card.summary'))}</h3>", f"<p>{escape(slide.summary)}</p>"]
    for item in slide.fields:
        label = '<h3 class="draft">' if item.drafted else "<h3>"
        parts.append(f"{label}{escape(item.label(loc))}</h3>")
        if item.value:
            parts.append(f"<p>{escape(item.value)}</p>")
        else:
            parts.append(f'<p class="empty">{escape(t(loc, "render.not_yet"))}</p>')
    if card.presenter:
        who = t(loc, "render.labelled", label=t(loc, "render.presenter"), value=card.presenter.name)
        parts.append(f'<div class="presenter">{escape(who)}</div>')
    return f'<section class="slide">{"".join(parts)}</section>'
