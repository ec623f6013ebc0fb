"""``/yomikai export``: a session's cards as one Markdown document, and a card as Markdown."""

from __future__ import annotations

from bot import args
from bot.context import Tx
from bot.errors import UserError
from bot.i18n import t
from bot.markdown import escape, escape_line
from bot.messages import DECK_FORMATS, DeckPost, Notice, Reply, SessionExport, SummaryCard
from bot.sessions import current_session, session_on
from bot.views import summary_card
from storage.queries import slots_of


def export_session(tx: Tx, text: str) -> Reply:
    """``/yomikai export [YYYY-MM-DD] [md|html|pdf]``: with a format, the session's deck is
    posted to the channel as a file; without, its cards as one Markdown document that only the
    organizer who asks sees."""
    tx.require_organizer()
    words = args.at_most(text, 2)
    formats = [word for word in words if word.casefold() in DECK_FORMATS]
    days = [word for word in words if word.casefold() not in DECK_FORMATS]
    if len(formats) > 1 or len(days) > 1:
        raise UserError("args.extra_words", extra=args.shorten(" ".join(words[1:])))
    reading = session_on(tx, args.day(days[0])) if days else current_session(tx)
    assert reading is not None and reading.id is not None
    group = tx.bound_group
    if formats:
        meets_at = reading.meets_at.astimezone(tx.zone)
        deck = DeckPost(group.locale, reading.id, formats[0].casefold(), meets_at)
        said = tx.tr("deck.posting", format=deck.format, date=f"{meets_at:%Y-%m-%d}")
        return Reply(private=(Notice(said),), public=(deck,))
    cards = tuple(
        summary_card(tx.session, group, reading, slot) for slot in slots_of(tx.session, reading.id)
    )
    meets_at = reading.meets_at.astimezone(tx.zone)
    return Reply.tell(SessionExport(group.locale, meets_at, cards))


def session_markdown(export: SessionExport) -> str:
    """The document: a heading for the session, then every card in slot order. What papers and
    people wrote is escaped (``bot.markdown``): it shows as text, never as markup."""
    loc = export.locale
    title = t(loc, "render.agenda_title", date=f"{export.meets_at:%Y-%m-%d %H:%M}")
    parts = [f"# {escape(title)}\n"]
    parts += [card_markdown(card, level=2) for card in export.cards]
    return "\n".join(parts)


def card_markdown(card: SummaryCard, *, level: int = 1) -> str:
    """One card, whole: titles, link, summary, the five fields and the presenter."""
    loc = card.locale
    top, sub = "#" * level, "#" * (level + 1)
    heading = t(loc, "render.card_title", number=card.number)
    lines = [f"{top} {escape(heading)} · {card.meets_at:%Y-%m-%d}", "", escape(card.title)]
    if card.translated_title:
        lines.append(escape(card.translated_title))
    lines.append(f"<{card.url}>")
    for label, text in (
        (t(loc, "card.summary"), card.summary),
        (t(loc, "render.abstract"), card.abstract),
        (t(loc, "card.translated_abstract"), card.translated_abstract),
    ):
        if text:
            lines += ["", f"{sub} {escape(label)}", "", escape(text, paragraphs=True)]
    for item in card.fields:
        lines += ["", f"{sub} {escape(item.label(loc))}", ""]
        lines.append(escape(item.value, paragraphs=True) or escape(t(loc, "render.not_yet")))
    if card.questions:  # all of them: the document is the meeting's record
        asked = t(loc, "thread.questions", count=len(card.questions))
        lines += ["", f"{sub} {escape(asked)}", ""]
        for q in card.questions:
            said = t(loc, "thread.question_line", author=q.author, text=" ".join(q.text.split()))
            lines.append(f"- {escape_line(said)}")
    if card.presenter:
        lines += [
            "",
            escape(
                t(
                    loc,
                    "render.labelled",
                    label=t(loc, "render.presenter"),
                    value=card.presenter.name,
                )
            ),
        ]
    small = card.small_print()
    if small:
        lines += ["", *(f"> {escape(line)}" for line in small)]
    return "\n".join(lines) + "\n"
