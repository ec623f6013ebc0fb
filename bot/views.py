"""Neutral messages built from stored rows: the ballot, the agenda, a summary card."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.drafting.draft import DRAFTING, PENDING
from bot.drafting.text import plain
from bot.meeting.event import meeting_event
from bot.meeting.feed import event_url
from bot.messages import (
    CARD_EXTRAS,
    CARD_FIELDS,
    Agenda,
    AgendaSlot,
    CandidateLine,
    CandidateList,
    CardField,
    Person,
    SummaryCard,
)
from bot.threads.store import questions_of
from storage.models import Candidate, Card, Group, Member, Paper, ReadingSession, Round, Slot, Vote
from storage.queries import SlotParts, card_of, nomination_counts, slot_parts, slots_of


def tallies(session: Session, round_id: int) -> dict[int, int]:
    """Candidate id → votes."""
    rows = session.exec(
        select(Vote.candidate_id, func.count())
        .where(Vote.round_id == round_id)
        .group_by(col(Vote.candidate_id))
    )
    return {candidate_id: count for candidate_id, count in rows}


def candidate_list(session: Session, group: Group, round_: Round) -> CandidateList:
    assert round_.id is not None and group.id is not None
    votes = tallies(session, round_.id)
    nominations = nomination_counts(session, group.id)
    rows = session.exec(
        select(Candidate, Paper)
        .join(Paper, col(Paper.id) == col(Candidate.paper_id))
        .where(Candidate.round_id == round_.id)
        .order_by(col(Candidate.number))
    )
    lines = tuple(
        CandidateLine(
            number=candidate.number,
            candidate_id=candidate.id or 0,
            arxiv_id=paper.arxiv_id,
            title=paper.title,
            url=paper.url,
            votes=votes.get(candidate.id or 0, 0),
            nominations=nominations.get(paper.id or 0, 0),
            trending_score=candidate.trending_score,
        )
        for candidate, paper in rows
    )
    return CandidateList(
        locale=group.locale, round_id=round_.id, candidates=lines, open=round_.closed_at is None
    )


def person(member: Member | None) -> Person | None:
    return Person(member.user_id, member.display_name) if member else None


def card_is_finished(card: Card | None) -> bool:
    """All five fields set by a person (a draft counts once its presenter saved it)."""
    return card is not None and all(
        getattr(card, key).strip() and key not in card.drafted for key in CARD_FIELDS
    )


def agenda(
    session: Session, group: Group, reading: ReadingSession, *, public_url: str = ""
) -> Agenda:
    """The session's agenda, carrying the session as a calendar event (its ``.ics`` linked
    under ``public_url`` when the bot has a public address)."""
    assert reading.id is not None
    slots = []
    for slot in slots_of(session, reading.id):
        paper = session.get(Paper, slot.paper_id)
        assert paper is not None and slot.id is not None
        presenter = session.get(Member, slot.presenter_id) if slot.presenter_id else None
        slots.append(
            AgendaSlot(
                number=slot.number,
                arxiv_id=paper.arxiv_id,
                title=paper.title,
                url=paper.url,
                presenter=person(presenter),
                card_finished=card_is_finished(card_of(session, slot.id)),
            )
        )
    return Agenda(
        locale=group.locale,
        meets_at=reading.meets_at.astimezone(ZoneInfo(group.timezone)),
        slots=tuple(slots),
        event=meeting_event(session, group, reading),
        calendar_url=event_url(public_url, reading),
    )


def summary_card(
    session: Session, group: Group, reading: ReadingSession, slot: Slot
) -> SummaryCard:
    assert slot.id is not None
    return summary_card_of(session, group, reading, slot_parts(session, slot.id))


def summary_card_of(
    session: Session, group: Group, reading: ReadingSession, parts: SlotParts
) -> SummaryCard:
    """The card of ``parts.slot``, from the rows already read with it."""
    slot, paper, thread = parts.slot, parts.paper, parts.thread
    assert slot.id is not None
    card = parts.card or Card(slot_id=slot.id, updated_at=reading.created_at)
    return SummaryCard(
        locale=group.locale,
        number=slot.number,
        meets_at=reading.meets_at.astimezone(ZoneInfo(group.timezone)),
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        url=paper.url,
        translated_title=card.translated_title,
        summary=card.summary,
        fields=tuple(
            CardField(key, getattr(card, key), key in card.drafted, card.sources.get(key, ""))
            for key in CARD_FIELDS
        ),
        presenter=person(parts.presenter),
        abstract="\n\n".join(plain(part) for part in paper.abstract.split("\n\n")),
        translated_abstract=card.translated_abstract,
        notes=tuple(card.draft_notes),
        drafting=card.draft_state in (PENDING, DRAFTING),
        extras_drafted=tuple(key for key in CARD_EXTRAS if key in card.drafted),
        thread=thread.link if thread is not None else "",
        questions=questions_of(session, slot.id),
    )
