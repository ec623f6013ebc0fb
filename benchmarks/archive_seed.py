"""A group's archive as the bot leaves it, written in bulk: groups, members, papers, rounds,
sessions, slots, cards, threads and questions, with realistic text (benchmarks 5 and 9).

Rows are the real models' tables, written with SQLAlchemy Core ``INSERT … RETURNING`` in
batches (what the bot writes one command at a time), so the real schema, its indexes and the
search index's triggers (migration 0007) all take part. Text is made from a fixed seed: paper
abstracts of about a thousand characters, cards with the five fields, a summary and, in a
Japanese group, a translated title and abstract.
"""

from __future__ import annotations

import importlib.util
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlmodel import Session, SQLModel

from storage.db import Database
from storage.migrate import MIGRATIONS
from storage.models import (
    Card,
    Group,
    Member,
    Paper,
    PaperThread,
    Question,
    ReadingSession,
    Round,
    Slot,
)

VOCABULARY = (
    "transformer attention diffusion latent sparse retrieval augmented language vision model "
    "training inference benchmark dataset scaling law token embedding contrastive objective "
    "reinforcement policy reward alignment preference optimization gradient stochastic robust "
    "efficient quantization distillation pruning mixture experts routing multimodal image text "
    "speech graph neural network kernel generalization adversarial uncertainty calibration "
    "causal representation self-supervised pretraining fine-tuning instruction reasoning chain "
    "evaluation zero-shot few-shot prompt context window memory long-range sequence state space"
)
WORDS = VOCABULARY.split()
METHODS = ("LoRA", "DPO", "PPO", "RLHF", "ViT", "BERT", "T5", "GPT-2", "CLIP", "U-Net", "MoE")
PLACES = (
    "University of Tokyo",
    "Kyoto University",
    "Google DeepMind",
    "Meta AI",
    "Stanford University",
    "MIT CSAIL",
    "ETH Zürich",
    "Mila",
    "RIKEN AIP",
    "Tsinghua University",
)
JA = (
    "本研究では",
    "大規模言語モデルの",
    "推論性能を",
    "効率的に",
    "改善する手法を",
    "提案する。",
    "実験の結果、",
    "既存手法を",
    "上回る精度を",
    "達成した。",
    "画像生成において",
    "拡散モデルの",
    "学習を",
    "安定させる。",
)
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML")
BATCH = 2000


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


_POOL = tuple(sentence(random.Random(n), 8 + n % 11) for n in range(4000))
"""Sentences to make prose of (drawing every word anew made the seeding slow)."""


def prose(rng: random.Random, chars: int) -> str:
    parts: list[str] = []
    size = 0
    while size < chars:
        parts.append(rng.choice(_POOL))
        size += len(parts[-1]) + 1
    return " ".join(parts)


_NAMES = tuple(f"{a.title()} {b.title()}" for a in WORDS[:30] for b in WORDS[30:])
_JA_POOL = tuple("".join(random.Random(n).choices(JA, k=6)) for n in range(2000))


def japanese(rng: random.Random, chars: int) -> str:
    parts: list[str] = []
    size = 0
    while size < chars:
        parts.append(rng.choice(_JA_POOL))
        size += len(parts[-1])
    return "".join(parts)


def title(rng: random.Random, number: int) -> str:
    """A paper title; ``number`` makes it unique, so an answer shows whose card it is."""
    words = rng.choice(_POOL).split()[: rng.randint(5, 10)]
    return f"{' '.join(words).rstrip('.')}: {rng.choice(METHODS)} study {number}"


def card_values(
    rng: random.Random, slot_id: int, presenter_id: int | None, at: datetime, locale: str
) -> dict[str, Any]:
    """A drafted card its presenter finished: the five fields, a summary, a translation."""
    ja = locale == "ja"
    return {
        "slot_id": slot_id,
        "purpose": japanese(rng, 80) if ja else prose(rng, 160),
        "results": japanese(rng, 100) if ja else prose(rng, 200),
        "method": japanese(rng, 100) if ja else prose(rng, 200),
        "model_name": rng.choice(METHODS) + "-" + rng.choice(WORDS),
        "affiliations": "; ".join(rng.sample(PLACES, rng.randint(1, 3))),
        "summary": japanese(rng, 250) if ja else prose(rng, 500),
        "translated_title": japanese(rng, 30) if ja else "",
        "translated_abstract": japanese(rng, 400) if ja else "",
        "updated_at": at,
        "updated_by_id": presenter_id,
        "drafted": ["summary"] if rng.random() < 0.5 else [],
        "sources": {"affiliations": "author block", "summary": "abstract"},
        "draft_notes": [] if ja else ["no_model"],
        "draft_state": "done",
        "draft_lease_until": None,
        "draft_attempts": 1,
        "drafted_at": at,
    }


def paper_values(rng: random.Random, number: int, at: datetime) -> dict[str, Any]:
    yymm = 2301 + number // 90000  # (unique while ``number`` < 12 × 90,000)
    return {
        "arxiv_id": f"{yymm:04d}.{10000 + number % 90000:05d}",
        "version": rng.randint(1, 3),
        "title": title(rng, number),
        "authors": rng.sample(_NAMES, 4),
        "affiliations": rng.sample(PLACES, 2),
        "abstract": prose(rng, 1000),
        "primary_category": rng.choice(CATEGORIES),
        "categories": rng.sample(CATEGORIES, 2),
        "published": at - timedelta(days=30),
        "fetched_at": at,
    }


def table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def insert_rows(
    session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` in batches (one ``executemany`` each), numbered after the table's
    highest id; their ids, in order. On PostgreSQL the id sequence is moved past them."""
    target = table(model)
    first = (session.execute(select(func.max(target.c.id))).scalar() or 0) + 1
    ids = list(range(first, first + len(rows)))
    numbered = [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
    for start in range(0, len(numbered), BATCH):
        session.execute(insert(target), numbered[start : start + BATCH])
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :last)"),
            {"t": target.name, "last": ids[-1]},
        )
    return ids


def outside_transaction(db: Database, *statements: str) -> list[tuple[Any, ...]]:
    """Run SQLite statements with no transaction around them (a checkpoint, ``ANALYZE``):
    the engine's connections begin one on their first statement. The last one's rows."""
    raw = db.engine.raw_connection()
    try:
        rows: list[tuple[Any, ...]] = []
        for statement in statements:
            rows = list(raw.cursor().execute(statement).fetchall())
        return rows
    finally:
        raw.close()


def _migration_0007() -> ModuleType:
    path = MIGRATIONS / "versions" / "0007_search_index.py"
    spec = importlib.util.spec_from_file_location("search_index_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def slots_indexed_after(session: Session) -> Iterator[None]:
    """Slots written inside are indexed for search in one statement at the end, as migration
    0007 indexes the slots that exist, instead of by its trigger one row at a time (four
    times slower). For a database whose index is still empty."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE slot DISABLE TRIGGER search_index_slot"))
    else:
        trigger = "search_index_slot_insert"
        find = text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name")
        made = session.execute(find, {"name": trigger}).scalar_one()
        session.execute(text(f"DROP TRIGGER {trigger}"))
    yield
    if postgres:
        session.execute(text("ALTER TABLE slot ENABLE TRIGGER search_index_slot"))
        session.execute(text("SELECT search_index_refresh(ARRAY(SELECT id FROM slot))"))
        return
    session.execute(text(made))
    m = _migration_0007()
    names = ", ".join(m.COLUMNS)
    session.execute(
        text(f"INSERT INTO search_index (rowid, {names}) SELECT s.id, {m.VALUES} {m.SOURCE}")
    )


@dataclass
class Archive:
    """What was written: enough to check every answer."""

    channels: list[str] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    members: list[list[tuple[int, str]]] = field(default_factory=list)
    """Per group: (member id, user id)."""
    group_ids: list[int] = field(default_factory=list)
    sessions: list[list[int]] = field(default_factory=list)
    """Per group: its session ids, oldest first."""
    rounds: list[list[int]] = field(default_factory=list)
    """Per group: the rounds its sessions were chosen in, oldest first."""
    round_papers: dict[int, list[int]] = field(default_factory=dict)
    """Round id → the paper ids its session read."""
    titles: dict[int, list[str]] = field(default_factory=dict)
    """Session id → its slots' paper titles, slot 1 first."""
    slot_ids: list[int] = field(default_factory=list)
    card_slots: list[tuple[int, int | None, str]] = field(default_factory=list)
    """(slot id, presenter id, group locale) of every slot, for its card."""
    card_ids: list[int] = field(default_factory=list)
    paper_count: int = 0


def seed_groups(
    session: Session, rng: random.Random, groups: int, members: int, now: datetime
) -> Archive:
    """``groups`` groups (one in four Japanese) of ``members`` members each."""
    archive = Archive()
    rows = []
    for g in range(groups):
        locale = "ja" if g % 4 == 3 else "en"
        archive.channels.append(f"C{g:08d}")
        archive.locales.append(locale)
        archive.zones.append("Asia/Tokyo" if locale == "ja" else "Europe/Berlin")
        rows.append(
            {
                "platform": "slack",
                "workspace_id": "T0001",
                "channel_id": archive.channels[-1],
                "name": f"Paper club {g}",
                "timezone": archive.zones[-1],
                "locale": locale,
                "meeting_weekday": 2,
                "meeting_time": time(17, 0),
                "papers_per_session": 5,
                "candidates_per_round": 15,
                "categories": "cs.LG cs.CL cs.CV cs.AI",
                "schedule": {},
                "threads": True,
                "location": "",
                "calendar_token": uuid.uuid4().hex,
                "events_refused": False,
                "created_at": now - timedelta(days=800),
            }
        )
    archive.group_ids = insert_rows(session, Group, rows)
    member_rows = [
        {
            "group_id": group_id,
            "user_id": f"U{g:04d}{m:04d}",
            "display_name": f"{rng.choice(WORDS)}-{m}",
            "is_organizer": m == 0,
            "in_rotation": True,
            "joined_rotation_at": now - timedelta(days=700),
            "away_until": None,
            "created_at": now - timedelta(days=700),
        }
        for g, group_id in enumerate(archive.group_ids)
        for m in range(members)
    ]
    ids = insert_rows(session, Member, member_rows)
    for g in range(groups):
        chunk = range(g * members, (g + 1) * members)
        archive.members.append([(ids[i], str(member_rows[i]["user_id"])) for i in chunk])
    return archive


def seed_sessions(
    session: Session,
    rng: random.Random,
    archive: Archive,
    per_group: int,
    slots: int,
    next_meeting: datetime,
    *,
    cards: bool = True,
) -> None:
    """``per_group`` weekly sessions for every group, the last meeting at ``next_meeting``,
    each with ``slots`` slots (a paper each, a presenter, a thread; with ``cards``, a card;
    every third slot has two questions)."""
    groups = len(archive.group_ids)
    meets = [next_meeting - timedelta(weeks=per_group - 1 - i) for i in range(per_group)]
    round_rows = [
        {
            "group_id": group_id,
            "opened_at": at - timedelta(days=6),
            "closed_at": at - timedelta(days=3),
        }
        for group_id in archive.group_ids
        for at in meets
    ]
    round_ids = insert_rows(session, Round, round_rows)
    session_rows = [
        {
            "group_id": round_rows[i]["group_id"],
            "round_id": round_id,
            "meets_at": meets[i % per_group],
            "created_at": meets[i % per_group] - timedelta(days=3),
            "uid": uuid.uuid4().hex,
            "revision": 0,
            "cancelled_at": None,
            "event_ref": None,
        }
        for i, round_id in enumerate(round_ids)
    ]
    session_ids = insert_rows(session, ReadingSession, session_rows)
    archive.sessions = [session_ids[g * per_group : (g + 1) * per_group] for g in range(groups)]
    archive.rounds = [round_ids[g * per_group : (g + 1) * per_group] for g in range(groups)]
    first_paper = archive.paper_count
    paper_rows = [
        paper_values(rng, first_paper + n, meets[0]) for n in range(len(session_ids) * slots)
    ]
    paper_ids = insert_rows(session, Paper, paper_rows)
    archive.paper_count += len(paper_ids)
    slot_rows = []
    for i, session_id in enumerate(session_ids):
        people = archive.members[i // per_group]
        archive.titles[session_id] = []
        for n in range(slots):
            k = i * slots + n
            slot_rows.append(
                {
                    "session_id": session_id,
                    "number": n + 1,
                    "paper_id": paper_ids[k],
                    "presenter_id": people[k % len(people)][0],
                }
            )
            archive.round_papers.setdefault(round_ids[i], []).append(paper_ids[k])
            archive.titles[session_id].append(str(paper_rows[k]["title"]))
    slot_ids = insert_rows(session, Slot, slot_rows)
    archive.slot_ids.extend(slot_ids)
    slot_group = {
        slot_ids[i]: archive.group_ids[i // slots // per_group] for i in range(len(slot_ids))
    }
    thread_rows = [
        {
            "slot_id": slot_id,
            "group_id": slot_group[slot_id],
            "ref": f"{1700000000 + slot_id}.{slot_id:06d}",
            "link": f"https://example.slack.com/archives/C/p{1700000000 + slot_id}{slot_id:06d}",
            "created_at": next_meeting,
        }
        for slot_id in slot_ids
    ]
    insert_rows(session, PaperThread, thread_rows)
    question_rows = [
        {
            "slot_id": slot_id,
            "key": f"slack:{slot_id}:{q}",
            "author_id": "U0000001",
            "author_name": rng.choice(WORDS),
            "text": sentence(rng, 14).replace(".", "?"),
            "asked_at": next_meeting,
        }
        for slot_id in slot_ids[::3]
        for q in range(2)
    ]
    insert_rows(session, Question, question_rows)
    locale_of = {gid: archive.locales[g] for g, gid in enumerate(archive.group_ids)}
    archive.card_slots.extend(
        (slot_id, row["presenter_id"], locale_of[slot_group[slot_id]])
        for slot_id, row in zip(slot_ids, slot_rows, strict=True)
    )
    if cards:
        archive.card_ids.extend(add_cards(session, rng, archive.card_slots, next_meeting))


def add_cards(
    session: Session,
    rng: random.Random,
    slots: Sequence[tuple[int, int | None, str]],
    at: datetime,
) -> list[int]:
    """A card for each (slot id, presenter id, group locale)."""
    rows = [card_values(rng, slot, presenter, at, locale) for slot, presenter, locale in slots]
    return insert_rows(session, Card, rows)


START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
"""The benchmarks' clock starts here (``ManualClock``'s default)."""
