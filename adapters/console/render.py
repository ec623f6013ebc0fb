"""Draws the core's neutral messages in a terminal with rich (panels and tables)."""

from __future__ import annotations

from functools import partial
from typing import assert_never

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.drafting.draft import Draft
from bot.export import session_markdown
from bot.i18n import t
from bot.meeting.google import google_link
from bot.messages import (
    CARD_FIELDS,
    Agenda,
    CandidateList,
    CardForm,
    DeckFile,
    DeckPost,
    MeetingEvent,
    Message,
    Notice,
    Problem,
    Reminder,
    SessionExport,
    SummaryCard,
    ThreadOpening,
    more_institutions,
    source_name,
)


def render(message: Message) -> RenderableType:
    """One message as a rich renderable. User and paper text is never read as markup."""
    match message:
        case Notice(title=None):
            return Text(message.text)
        case Notice():
            return Panel(Text("\n".join(message.lines)), title=escape(message.title or ""))
        case Problem():
            return _problem(message)
        case CandidateList():
            return _candidates(message)
        case Agenda():
            return _agenda(message)
        case SummaryCard():
            return _card(message)
        case CardForm():
            return Text(
                t(message.locale, "card.prompt_intro", number=message.number, title=message.title)
            )
        case Reminder():
            return Panel(Text(message.body()), title=escape(message.heading()))
        case SessionExport():  # (no frame around it: the console chat prints it to be copied)
            return Group(Text(message.intro()), Text(session_markdown(message)))
        case DeckFile():  # (the console chat writes the file; this is its line)
            return Text(message.intro)
        case DeckPost():
            raise TypeError("a DeckPost is made into a DeckFile by bot.delivery before it is sent")
        case ThreadOpening() | MeetingEvent():
            raise TypeError("threads and calendar events are made by the adapter, not posted")
        case _:
            assert_never(message)


def _problem(problem: Problem) -> RenderableType:
    lines = Text(problem.text, style="bold red")
    if problem.usage:
        lines.append(f"\n{t(problem.locale, 'render.usage')}: ", style="dim").append(problem.usage)
    if problem.example:
        lines.append(f"\n{t(problem.locale, 'render.example')}: ", style="dim").append(
            problem.example
        )
    return lines


def _candidates(ballot: CandidateList) -> RenderableType:
    loc = ballot.locale
    title = t(loc, "render.candidates_title" if ballot.open else "render.candidates_closed")
    caption = t(loc, "render.vote_hint_typed") if ballot.open else None
    table = Table(title=title, caption=caption, show_lines=False, expand=True)
    table.add_column("#", justify="right", style="bold")
    table.add_column(t(loc, "render.paper"), ratio=1)
    table.add_column("arXiv", no_wrap=True)
    table.add_column(t(loc, "render.votes_column"), justify="right")
    for line in ballot.candidates:
        detail = Text(line.title)
        if line.nominations:
            detail.append(f"  {t(loc, 'render.nominations', count=line.nominations)}", "dim")
        if line.trending_score:
            score = f"{line.trending_score:g}"
            detail.append(f"  {t(loc, 'render.trending', score=score)}", "dim")
        table.add_row(str(line.number), detail, line.arxiv_id, str(line.votes))
    return table


def _agenda(plan: Agenda) -> RenderableType:
    loc = plan.locale
    table = Table(
        title=t(loc, "render.agenda_title", date=plan.meets_at.strftime("%Y-%m-%d %H:%M"))
    )
    table.add_column("#", justify="right", style="bold")
    table.add_column(t(loc, "render.paper"), ratio=1)
    table.add_column(t(loc, "render.presenter"))
    table.add_column(t(loc, "render.card_column"))
    for slot in plan.slots:
        who = (
            Text(slot.presenter.name)
            if slot.presenter
            else Text(t(loc, "render.open_slot", number=slot.number), style="yellow")
        )
        done = t(loc, "render.card_done" if slot.card_finished else "render.card_todo")
        table.add_row(str(slot.number), Text(f"{slot.title}\n{slot.url}"), who, done)
    if plan.event is None or plan.event.cancelled:
        return table
    links = [
        ("calendar.add_google", google_link(plan.event)),
        ("calendar.ics_link", plan.calendar_url),
    ]
    lines = [t(loc, "render.labelled", label=t(loc, key), value=url) for key, url in links if url]
    return Group(table, *(Text(line, style="cyan") for line in lines))


def _card(card: SummaryCard) -> RenderableType:
    loc = card.locale
    parts: list[RenderableType] = [Text(card.title, style="bold")]
    if card.translated_title:
        parts.append(Text(card.translated_title, style="bold"))
    parts.append(Text(card.url, style="cyan"))
    if card.summary:
        parts.append(Text("\n" + card.summary))
    for label, text in (
        (t(loc, "render.abstract"), card.abstract),
        (t(loc, "card.translated_abstract"), card.translated_abstract),
    ):
        if text:
            parts += [Text(f"\n{label}", style="bold"), Text(text)]
    body = Table.grid(padding=(0, 2))
    body.add_column(style="bold")
    body.add_column(ratio=1)
    for field in card.fields:
        value = Text(field.value) if field.value else Text(t(loc, "render.not_yet"), style="dim")
        body.add_row(field.label(loc), value)
    parts += [Text(""), body]
    if card.questions:
        asked = t(loc, "thread.questions", count=len(card.questions))
        parts += [Text(f"\n{asked}", style="bold"), *map(Text, card.question_lines())]
    if card.presenter:
        who = t(loc, "render.labelled", label=t(loc, "render.presenter"), value=card.presenter.name)
        parts.append(Text(f"\n{who}", style="dim"))
    if not card.finished:
        missing = t(loc, "render.separator").join(t(loc, f"card.{key}") for key in card.missing)
        parts.append(Text(t(loc, "render.draft", missing=missing), style="yellow"))
    parts += [Text(line, style="dim") for line in card.small_print()]
    heading = t(loc, "render.card_title", number=card.number)
    return Panel(Group(*parts), title=escape(f"{heading} · {card.meets_at:%Y-%m-%d}"))


def render_draft(draft: Draft, locale: str) -> RenderableType:
    """``yomikai draft``: every part of the draft, where it came from, and what was missing."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(ratio=1)
    table.add_column(style="dim")
    separator = t(locale, "render.separator")
    parts = draft.parts(separator, partial(more_institutions, locale))
    for key in ("translated_title", "summary", "translated_abstract", *CARD_FIELDS):
        value = parts.get(key, "")
        shown = Text(value) if value else Text(t(locale, "render.not_yet"), style="dim")
        source = draft.sources.get(key, "")
        table.add_row(
            t(locale, f"card.{key}"), shown, source_name(locale, source) if source else ""
        )
    notes = [Text(t(locale, key), style="yellow") for key in draft.notes]
    title = escape(f"{draft.arxiv_id} · {draft.title}")
    return Panel(Group(table, *notes), title=title)
