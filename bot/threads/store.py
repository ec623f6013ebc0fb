"""Threads and the questions asked in them, as stored rows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.cleaning import clean
from bot.messages import Question as QuestionView
from bot.ports import Thread
from bot.threads import ThreadMessage
from storage.models import Group, Member, PaperThread, Question, ReadingSession, Slot
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


def keep_question(session: Session, said: ThreadMessage, at: datetime) -> bool:
    """Keep a message written in a paper's thread; False when its thread is no paper's, it is
    empty, or it was kept before (a retried event, another replica)."""
    query = (
        select(PaperThread, Group)
        .join(Group, col(Group.id) == col(PaperThread.group_id))
        .where(Group.platform == said.platform, PaperThread.ref == said.ref)
    )
    if said.channel_id is not None:
        query = query.where(Group.channel_id == said.channel_id)
    found = session.exec(query).first()
    text = clean(said.text).strip()
    if found is None or not text:
        return False
    thread, group = found
    member = session.exec(
        select(Member).where(Member.group_id == group.id, Member.user_id == said.author_id)
    ).first()
    values = {
        "slot_id": thread.slot_id,
        "key": f"{said.platform}:{said.key}"[:200],
        "author_id": said.author_id[:64],
        "author_name": member.display_name if member else clean(said.author_name)[:128],
        "text": text[:MAX_QUESTION],
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
