"""Draws the core's neutral messages as Block Kit, with a plain fallback text for notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from adapters.slack.blocks import (
    FALLBACK_LIMIT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    Block,
    bold,
    button,
    chunks,
    context,
    cut,
    escape,
    fit,
    header,
    link,
    mention,
    section,
)
from bot.export import session_markdown
from bot.i18n import t
from bot.meeting.google import google_link
from bot.messages import (
    Agenda,
    CandidateLine,
    CandidateList,
    CardForm,
    DeckFile,
    DeckPost,
    MeetingEvent,
    Message,
    Notice,
    Person,
    Problem,
    Reminder,
    SessionExport,
    SummaryCard,
    ThreadOpening,
    vote_id,
)

FENCE = "```"


@dataclass(frozen=True)
class Rendered:
    """``text`` is what notifications and old clients show; ``blocks`` is what Slack draws."""

    text: str
    blocks: list[Block]


def render(message: Message) -> Rendered:
    match message:
        case Notice():
            return _notice(message)
        case Problem():
            return _problem(message)
        case CandidateList():
            return _candidates(message)
        case Agenda():
            return _agenda(message)
        case SummaryCard():
            return _card(message)
        case Reminder():
            return _reminder(message)
        case CardForm():
            loc = message.locale
            text = t(loc, "slack.card_form", number=message.number, title=message.title)
            return _done(text, [section(escape(text))])
        case SessionExport():
            return _export(message)
        case DeckFile():  # (uploaded as a file by the outbound side; this is its line)
            return _done(message.intro, [section(escape(message.intro))])
        case DeckPost():
            raise TypeError("a DeckPost is made into a DeckFile by bot.delivery before it is sent")
        case ThreadOpening() | MeetingEvent():
            raise TypeError("threads and calendar events are made by the adapter, not posted")
        case _:
            assert_never(message)


def _done(raw_text: str, blocks: list[Block]) -> Rendered:
    text = fit(escape(raw_text), FALLBACK_LIMIT) or " "
    return Rendered(text, blocks[:MAX_BLOCKS] or [section(text)])


def _notice(notice: Notice) -> Rendered:
    if notice.title is None:
        texts = chunks([escape(line) for line in notice.text.split("\n")])
        return _done(notice.text, [section(text) for text in texts])
    blocks = [header(notice.title)]
    blocks += [section(text) for text in chunks([escape(line) for line in notice.lines])]
    return _done("\n".join([notice.title, *notice.lines]), blocks)


def _problem(problem: Problem) -> Rendered:
    loc = problem.locale
    hints = []
    if problem.usage:
        hints.append(f"{escape(t(loc, 'render.usage'))}: `{escape(problem.usage)}`")
    if problem.example:
        hints.append(f"{escape(t(loc, 'render.example'))}: `{escape(problem.example)}`")
    blocks = [section(":warning: " + escape(problem.text))]
    if hints:
        blocks.append(context(*hints))
    return _done(problem.text, blocks)


def _candidate_text(loc: str, line: CandidateLine) -> str:
    details = [f"`{escape(line.arxiv_id)}`", escape(t(loc, "render.votes", votes=line.votes))]
    if line.nominations:
        details.append(escape(t(loc, "render.nominations", count=line.nominations)))
    if line.trending_score:
        details.append(escape(t(loc, "render.trending", score=f"{line.trending_score:g}")))
    return f"*{line.number}.* {bold(link(line.url, line.title))}\n" + " · ".join(details)


def _candidates(ballot: CandidateList) -> Rendered:
    loc = ballot.locale
    title = t(loc, "render.candidates_title" if ballot.open else "render.candidates_closed")
    blocks = [header(title)]
    lines = list(ballot.candidates)
    # One block per candidate; past Slack's 50 blocks the rest are listed as text (/vote <n>).
    shown = lines if len(lines) < MAX_BLOCKS else lines[: MAX_BLOCKS - 3]
    for line in shown:
        vote = None
        if ballot.open:
            label = t(loc, "render.vote_button", number=line.number)
            vote = button(label, vote_id(ballot.round_id, line.candidate_id))
        blocks.append(section(_candidate_text(loc, line), vote))
    rest = lines[len(shown) :]
    if rest:
        votes = [
            f"*{c.number}.* {escape(c.title)} · {escape(t(loc, 'render.votes', votes=c.votes))}"
            for c in rest
        ]
        blocks.append(section(chunks(votes)[0]))
        blocks.append(context(escape(t(loc, "slack.more_candidates", count=len(rest)))))
    return _done(title, blocks)


def _person(person: Person | None) -> str:
    return mention(person.user_id, person.name) if person else ""


def _agenda(plan: Agenda) -> Rendered:
    loc = plan.locale
    title = t(loc, "render.agenda_title", date=plan.meets_at.strftime("%Y-%m-%d %H:%M"))
    blocks = [header(title)]
    presenter = escape(t(loc, "render.presenter"))
    for slot in plan.slots[: MAX_BLOCKS - 1]:
        if slot.presenter:
            who = t(loc, "render.labelled", label=presenter, value=_person(slot.presenter))
        else:
            who = f"_{escape(t(loc, 'render.open_slot', number=slot.number))}_"
        done = escape(t(loc, "render.card_done" if slot.card_finished else "render.card_todo"))
        paper = bold(link(slot.url, slot.title))
        blocks.append(section(f"*{slot.number}.* {paper}\n{who} · {done}"))
    if plan.event is not None and not plan.event.cancelled:
        blocks = [*blocks[: MAX_BLOCKS - 1], section(_calendar_links(plan, plan.event))]
    return _done(title, blocks)


def _calendar_links(plan: Agenda, event: MeetingEvent) -> str:
    """The meeting into a calendar: Google's form, and the session's ``.ics`` where served."""
    loc = plan.locale
    links = [f":calendar: {link(google_link(event), t(loc, 'calendar.add_google'))}"]
    if plan.calendar_url:
        links.append(link(plan.calendar_url, t(loc, "calendar.ics_link")))
    return " · ".join(links)


def _card(card: SummaryCard) -> Rendered:
    loc = card.locale
    heading = f"{t(loc, 'render.card_title', number=card.number)} · {card.meets_at:%Y-%m-%d}"
    paper = [bold(link(card.url, card.title))]
    if card.translated_title:
        paper.append(escape(card.translated_title))
    paper.append(f"`{escape(card.arxiv_id)}`")
    blocks = [header(heading), section("\n".join(paper))]
    if card.summary:
        blocks.append(section(escape(card.summary)))
    for label_key, text in (
        ("render.abstract", card.abstract),
        ("card.translated_abstract", card.translated_abstract),
    ):
        if text:
            body = escape(cut(text, SECTION_LIMIT - 200))
            blocks.append(section(f"{bold(escape(t(loc, label_key)))}\n{body}"))
    for field in card.fields:
        label = bold(escape(field.label(loc)))
        value = escape(field.value) if field.value else f"_{escape(t(loc, 'render.not_yet'))}_"
        blocks.append(section(f"{label}\n{value}"))
    blocks += _thread(card)
    notes = []
    if card.presenter:
        label = escape(t(loc, "render.presenter"))
        who = escape(card.presenter.name) if card.mentioned_in_thread else _person(card.presenter)
        notes.append(t(loc, "render.labelled", label=label, value=who))
    if not card.finished:
        missing = t(loc, "render.separator").join(t(loc, f"card.{key}") for key in card.missing)
        notes.append(escape(t(loc, "render.draft", missing=missing)))
    notes += [escape(line) for line in card.small_print()]
    if notes:
        blocks.append(context(*notes[:10]))
    return _done(f"{heading}: {card.title}", blocks)


def _thread(card: SummaryCard) -> list[Block]:
    """The card's discussion thread, and the questions asked there."""
    loc = card.locale
    if not card.thread and not card.questions:
        return []
    lines = []
    if card.thread:
        label = bold(escape(t(loc, "thread.link")))
        lines.append(f"{label} · {link(card.thread, t(loc, 'thread.open_link'))}")
    if card.questions:
        lines.append(bold(escape(t(loc, "thread.questions", count=len(card.questions)))))
        lines += [f"• {escape(cut(line, 300))}" for line in card.question_lines()]
    return [section("\n".join(lines))]


def thread_text(opening: ThreadOpening) -> str:
    """A thread's opening reply: the presenter mentioned (the one mention the bot makes)."""
    who = mention(opening.presenter.user_id, opening.presenter.name) if opening.presenter else ""
    return opening.text(who, escape(opening.title))


def _reminder(reminder: Reminder) -> Rendered:
    title, body = reminder.heading(), reminder.body()
    blocks = [header(title), section(escape(body)), context(link(reminder.url, reminder.title))]
    return _done(f"{title}: {body}", blocks)


def _export(export: SessionExport) -> Rendered:
    """The Markdown as code blocks, to copy as it is; a document too long for one message ends
    with a note rather than being refused."""
    intro = export.intro()
    room = SECTION_LIMIT - 2 * len(FENCE) - 2
    document = session_markdown(export).split("\n")
    lines = [escape(line).replace(FENCE, "`\u200b``") for line in document]
    texts = chunks(lines, room)
    fits = MAX_BLOCKS - 2
    blocks = [section(escape(intro))]
    blocks += [section(f"{FENCE}\n{text}\n{FENCE}") for text in texts[:fits]]
    if len(texts) > fits:
        blocks.append(context(escape(t(export.locale, "slack.export_cut"))))
    return _done(intro, blocks)
