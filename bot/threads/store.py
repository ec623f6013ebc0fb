"""Threads and the questions asked in them, as stored rows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.cleaning import clean
from bot.messages import Question as QuestionView
from bot.ports import Thread
from storage.models import Group, PaperThread, Question, ReadingSession, Slot
from storage.queries import insert_ignore

MAX_QUESTION = 2000
"""Characters of a thread message kept (a question, not an essay)."""


def remember(session: Session, slot_id: int, thread: Thread, now: datetime) -> None:
    """The slot's thread is ``thread`` (kept once: a re-sent thread finds its row)."""
    slot = session.get(Slot, slot_id)
    reading = session.get(ReadingSession, slot.session_id) if slot is not None else None
    if reading is None:
        return
    values = {
        "slot_id": slot_id,
        "group_id": reading.group_id,
        "ref": thread.ref[:200],
        "link": thread.link[:500],
        "created_at": now,
    }
    insert_ignore(session, PaperThread, values, ("slot_id",))


def thread_of(session: Session, slot_id: int) -> PaperThread | None:
    return session.exec(select(PaperThread).where(PaperThread.slot_id == slot_id)).first()


def keep_question(
    session: Session,
    group: Group,
    ref: str,
    key: str,
    author_id: str,
    author_name: str,
    text: str,
    at: datetime,
) -> bool:
    """Keep a message written in the thread ``ref`` of ``group``; False when ``ref`` is none of
    its paper threads, or the message was kept before (a retried event)."""
    thread = session.exec(
        select(PaperThread).where(PaperThread.group_id == group.id, PaperThread.ref == ref)
    ).first()
    said = clean(text).strip()
    if thread is None or not said:
        return False
    values = {
        "slot_id": thread.slot_id,
        "key": key[:200],
        "author_id": author_id[:64],
        "author_name": clean(author_name)[:128],
        "text": said[:MAX_QUESTION],
        "asked_at": at,
    }
    return insert_ignore(session, Question, values, ("key",)) is not None


def questions_of(session: Session, slot_id: int) -> tuple[QuestionView, ...]:
    rows = session.exec(
        select(Question)
        .where(Question.slot_id == slot_id)
        .order_by(col(Question.asked_at), col(Question.id))
    ).all()
    return tuple(QuestionView(q.author_name or q.author_id, q.text, q.asked_at) for q in rows)
