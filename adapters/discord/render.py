"""Draws the core's neutral messages as Discord messages: text, embeds, and views of buttons.

Every text from users and arXiv is escaped and cut to Discord's limits (see ``limits``), and
nothing the bot sends can ping anyone: ``allowed_mentions`` is none on every message.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, assert_never

import discord

from adapters.discord import limits
from adapters.discord.components import ballot_view, form_view
from adapters.discord.limits import cut, link, shown, size
from bot.export import card_markdown, session_markdown
from bot.i18n import t
from bot.meeting.google import google_link
from bot.meeting.ics import calendar_for
from bot.meeting.ics import filename as ics_filename
from bot.messages import (
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
)

NO_MENTIONS = discord.AllowedMentions.none()
BLURPLE = discord.Colour.blurple()
GREY = discord.Colour.light_grey()
RED = discord.Colour.red()
GREEN = discord.Colour.green()
GOLD = discord.Colour.gold()
_MARGIN = 16
"""Room kept below the 6,000-character embed total (rounding of per-line budgets)."""


@dataclass
class Outgoing:
    """One Discord message to send or to edit in place."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    """(file name, bytes): ``discord.File`` objects are single use, so they are made per send."""

    def files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.attachments]

    def send_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.view is not None:
            kwargs["view"] = self.view
        if self.attachments:
            kwargs["files"] = self.files()
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Everything replaced: no view means the buttons go (a closed ballot)."""
        kwargs: dict[str, Any] = {
            "allowed_mentions": NO_MENTIONS,
            "content": self.content,
            "embeds": self.embeds,
            "view": self.view,
        }
        if self.attachments:
            kwargs["attachments"] = self.files()
        return kwargs


def render(message: Message) -> Outgoing:
    match message:
        case Notice(title=None):
            return Outgoing(content=shown(message.text, limits.CONTENT))
        case Notice():
            return Outgoing(embeds=[_titled(message)])
        case Problem():
            return Outgoing(embeds=[_problem(message)])
        case CandidateList():
            return Outgoing(embeds=[_ballot(message)], view=ballot_view(message))
        case Agenda():
            return _agenda_post(message)
        case SummaryCard():
            return _card(message)
        case CardForm():
            title = shown(message.title, limits.EMBED_TITLE)
            text = t(message.locale, "discord.card_form", number=message.number, title=title)
            return Outgoing(
                content=cut(text, limits.CONTENT), view=form_view(message.locale, message.number)
            )
        case Reminder():
            return Outgoing(embeds=[_reminder(message)])
        case SessionExport():
            document = session_markdown(message).encode("utf-8")
            return Outgoing(content=message.intro(), attachments=[(message.filename, document)])
        case DeckFile():
            intro = limits.escape(message.intro)
            return Outgoing(content=intro, attachments=[(message.filename, message.data)])
        case DeckPost():
            raise TypeError("a DeckPost is made into a DeckFile by bot.delivery before it is sent")
        case ThreadOpening() | MeetingEvent():
            raise TypeError("threads and calendar events are made by the adapter, not posted")
        case _:
            assert_never(message)


def _titled(notice: Notice) -> discord.Embed:
    body = "\n".join(notice.lines) if notice.lines else notice.text
    if body == notice.title:
        body = ""
    return discord.Embed(
        title=shown(notice.title or "", limits.EMBED_TITLE),
        description=shown(body, limits.EMBED_DESCRIPTION) or None,
        colour=BLURPLE,
    )


def _problem(problem: Problem) -> discord.Embed:
    embed = discord.Embed(description=shown(problem.text, limits.EMBED_DESCRIPTION), colour=RED)
    for key, value in (("render.usage", problem.usage), ("render.example", problem.example)):
        if value:
            code = cut(value.replace("`", "'"), limits.FIELD_VALUE - 2)
            embed.add_field(name=t(problem.locale, key), value=f"`{code}`", inline=False)
    return embed


def _listing(embed: discord.Embed, rows: list[tuple[str, str]]) -> discord.Embed:
    """Rows of (plain title, markdown detail): one field each, or one line each when too many.

    Titles are cut so the whole embed stays under Discord's 6,000-character total.
    """
    if not rows:
        return embed
    fixed = sum(size(part or "") for part in (embed.title, embed.footer.text, embed.description))
    fixed += _MARGIN
    if len(rows) <= limits.FIELDS:
        details = [cut(detail, limits.FIELD_VALUE) for _, detail in rows]
        budget = (limits.EMBED_TOTAL - fixed - sum(map(size, details))) // len(rows)
        budget = max(8, min(limits.FIELD_NAME, budget))
        for (title, _), detail in zip(rows, details, strict=True):
            embed.add_field(name=shown(title, budget), value=detail, inline=False)
        return embed
    room = min(limits.EMBED_DESCRIPTION, limits.EMBED_TOTAL - fixed) // len(rows) - 1
    lines = []
    for title, detail in rows:
        tail = f" · {detail}" if size(detail) + 12 < room else ""
        lines.append(shown(title, max(8, room - size(tail))) + tail)
    embed.description = cut("\n".join(lines), limits.EMBED_DESCRIPTION)
    return embed


def _ballot(ballot: CandidateList) -> discord.Embed:
    loc = ballot.locale
    key = "render.candidates_title" if ballot.open else "render.candidates_closed"
    embed = discord.Embed(title=t(loc, key), colour=BLURPLE if ballot.open else GREY)
    if ballot.open and len(ballot.candidates) <= limits.FIELDS:
        embed.description = t(loc, "render.vote_hint")
    if ballot.open and len(ballot.candidates) > limits.SELECT_OPTIONS * limits.ROWS:
        last = limits.SELECT_OPTIONS * limits.ROWS
        embed.set_footer(text=t(loc, "discord.more_candidates", last=last))
    rows = []
    for line in ballot.candidates:
        parts = [link(f"arXiv:{line.arxiv_id}", line.url), t(loc, "render.votes", votes=line.votes)]
        if line.nominations:
            parts.append(t(loc, "render.nominations", count=line.nominations))
        if line.trending_score:
            parts.append(t(loc, "render.trending", score=f"{line.trending_score:g}"))
        rows.append((f"{line.number}. {line.title}", " · ".join(parts)))
    return _listing(embed, rows)


def _agenda_post(plan: Agenda) -> Outgoing:
    """The agenda, with the meeting attached as an ``.ics`` file (a calendar app opens it) and
    a link to Google Calendar's form; a session posted again after a change carries its event
    anew (the same UID, a higher SEQUENCE), so a calendar that has it updates it."""
    event = plan.event
    if event is None or event.cancelled:
        return Outgoing(embeds=[_agenda(plan)])
    embed = _agenda(plan, calendar=link(t(plan.locale, "calendar.add_google"), google_link(event)))
    embed.set_footer(text=t(plan.locale, "calendar.attached"))
    made = calendar_for([event], event.title, stamp=datetime.now(UTC))  # (DTSTAMP: when sent)
    return Outgoing(embeds=[embed], attachments=[(ics_filename(event), made)])


def _agenda(plan: Agenda, calendar: str = "") -> discord.Embed:
    loc = plan.locale
    title = t(loc, "render.agenda_title", date=plan.meets_at.strftime("%Y-%m-%d %H:%M"))
    embed = discord.Embed(title=title, colour=BLURPLE, description=calendar or None)
    rows = []
    for slot in plan.slots:
        who = (
            shown(slot.presenter.name, 80)
            if slot.presenter
            else t(loc, "render.open_slot", number=slot.number)
        )
        done = t(loc, "render.card_done" if slot.card_finished else "render.card_todo")
        paper = link(f"arXiv:{slot.arxiv_id}", slot.url)
        labelled = t(loc, "render.labelled", label=t(loc, "render.presenter"), value=who)
        detail = f"{paper} · {labelled} · {done}"
        rows.append((f"{slot.number}. {slot.title}", detail))
    return _listing(embed, rows)


def _card(card: SummaryCard) -> Outgoing:
    loc = card.locale
    cut_any = False

    def fit(text: str, limit: int) -> str:
        nonlocal cut_any
        result = shown(text, limit)
        cut_any = cut_any or result != limits.escape(text)
        return result

    embed = discord.Embed(
        title=fit(card.title, limits.EMBED_TITLE),
        url=card.url,
        colour=GREEN if card.finished else GOLD,
    )
    for item in card.fields:
        value = fit(item.value, limits.FIELD_VALUE) if item.value else t(loc, "render.not_yet")
        embed.add_field(name=cut(item.label(loc), limits.FIELD_NAME), value=value, inline=False)
    if card.thread.startswith("https://"):
        opened = f"[{limits.escape(t(loc, 'thread.open_link'))}]({card.thread})"
        embed.add_field(name=t(loc, "thread.link"), value=opened, inline=False)
    if card.questions:
        asked = "\n".join(f"• {limits.escape(line)}" for line in card.question_lines())
        name = t(loc, "thread.questions", count=len(card.questions))
        embed.add_field(name=name, value=cut(asked, limits.FIELD_VALUE), inline=False)
    footer = [f"{t(loc, 'render.card_title', number=card.number)} · {card.meets_at:%Y-%m-%d}"]
    if card.presenter:
        name = cut(card.presenter.name, 80)
        footer.append(t(loc, "render.labelled", label=t(loc, "render.presenter"), value=name))
    if not card.finished:
        missing = t(loc, "render.separator").join(t(loc, f"card.{key}") for key in card.missing)
        footer.append(t(loc, "render.draft", missing=missing))
    footer += card.small_print()
    footer_text = "\n".join(footer)
    used = size(embed.title or "") + sum(
        size(f.name or "") + size(f.value or "") for f in embed.fields
    )
    room = limits.EMBED_TOTAL - used - size(footer_text) - size(t(loc, "discord.full_card")) - 2
    heading = f"**{fit(card.translated_title, 400)}**\n\n" if card.translated_title else ""
    room = max(0, min(limits.EMBED_DESCRIPTION, room) - size(heading))
    parts = [heading.strip()] if heading else []
    for label, text in (
        ("", card.summary),
        (t(loc, "render.abstract"), card.abstract),
        (t(loc, "card.translated_abstract"), card.translated_abstract),
    ):
        if not text or room <= 40:
            cut_any = cut_any or bool(text)
            continue
        title = f"**{limits.escape(label)}**\n" if label else ""
        shown_text = title + fit(text, max(0, room - size(title) - 2))
        parts.append(shown_text)
        room -= size(shown_text) + 2
    embed.description = "\n\n".join(parts).strip() or None
    attachments = []
    if cut_any:
        footer_text += "\n" + t(loc, "discord.full_card")
        attachments.append((f"card-{card.number}.md", card_markdown(card).encode("utf-8")))
    embed.set_footer(text=cut(footer_text, limits.FOOTER))
    return Outgoing(embeds=[embed], attachments=attachments)


def _reminder(reminder: Reminder) -> discord.Embed:
    body = reminder.body(shown(reminder.title, 1000))
    return discord.Embed(
        title=cut(reminder.heading(), limits.EMBED_TITLE),
        url=reminder.url,
        description=cut(body, limits.EMBED_DESCRIPTION),
        colour=GOLD,
    )
