"""The archive's full-text search: which slots of a group's sessions hold every search word.

The index is one row per slot (its paper's title and abstract, its card's five fields, summary,
translated title and translated abstract), made and kept current by the triggers of migration
0007 on ``slot``, ``card`` and ``paper``; this module only reads it. Each engine finds words its
own way, with the same meaning: a word is found anywhere inside a text, case aside, so a
Japanese word is found inside a sentence without cutting it into words first.

- SQLite: FTS5 with the ``trigram`` tokenizer. A word of three characters or more is a phrase of
  an FTS5 ``MATCH`` (quoted, so ``"``, ``*``, ``NEAR(`` or ``OR`` are text, never query syntax);
  trigrams cannot find shorter words (``拡散``, ``3D``), so those are ``LIKE`` patterns over the
  same table's columns (read in full: a group's archive is small).
- PostgreSQL: ``ILIKE`` over one text of all the columns, which a GIN ``pg_trgm`` index serves
  (words shorter than three characters and, in a database whose locale is C, Japanese ones
  are still found, by reading the rows: the index is only a shortcut).

Ranking is the same on both engines, computed in SQL from the columns (not from either engine's
own score, so a backup restored into the other engine orders its results alike): newest session
first; within a session, the best match first, by how many of the words appear in which parts
(title and translated title weigh 3, card text 2, abstract and translated abstract 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Text, text
from sqlmodel import Session

from storage.types import UTCDateTime

INDEX = "search_index"
"""The index table (on SQLite an FTS5 table, with its own shadow tables ``search_index_*``)."""

PARTS = (
    "title",
    "abstract",
    "purpose",
    "results",
    "method",
    "model_name",
    "affiliations",
    "summary",
    "translated_title",
    "translated_abstract",
)
"""What is searched: the index's columns, in the order a hit names them."""

WEIGHTS = {
    "title": 3,
    "translated_title": 3,
    "purpose": 2,
    "results": 2,
    "method": 2,
    "model_name": 2,
    "affiliations": 2,
    "summary": 2,
    "abstract": 1,
    "translated_abstract": 1,
}
TRIGRAM = 3
"""FTS5's trigram tokenizer matches words of at least this many characters."""


def include_name(name: str | None, type_: str, parents: Any) -> bool:
    """Alembic's filter: the index tables are made by migration 0007, not by the models."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def is_index_table(name: str) -> bool:
    return name == INDEX or name.startswith(INDEX + "_")


@dataclass(frozen=True)
class Hit:
    slot_id: int
    session_id: int
    meets_at: datetime
    number: int
    title: str
    score: int
    parts: tuple[str, ...]
    """Where the words were found (``PARTS``, in that order)."""


@dataclass(frozen=True)
class Found:
    hits: tuple[Hit, ...]
    total: int
    """How many slots matched in all (``hits`` holds the first ``limit`` of them)."""


def _pattern(word: str) -> str:
    """``word`` anywhere, as a LIKE pattern: its ``%``, ``_`` and ``\\`` are plain text."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(word: str) -> str:
    """``word`` as an FTS5 string: whatever it holds is text, not query syntax."""
    return '"' + word.replace('"', '""') + '"'


def search(session: Session, group_id: int, words: Sequence[str], *, limit: int) -> Found:
    """The slots of ``group_id``'s sessions (past and planned; not cancelled ones) whose text
    holds every one of ``words``."""
    words = [word for word in dict.fromkeys(words) if word]
    if not words:
        return Found((), 0)
    postgres = session.get_bind().dialect.name == "postgresql"
    params: dict[str, Any] = {"group_id": group_id, "limit": limit}
    for i, word in enumerate(words):
        params[f"w{i}"] = _pattern(word)
    like = "ILIKE" if postgres else "LIKE"
    escape = "" if postgres else " ESCAPE '\\'"  # (PostgreSQL's default escape is \ already)

    def holds(part: str, i: int) -> str:
        return f"x.{part} {like} :w{i}{escape}"

    flags = [
        f"CASE WHEN {' OR '.join(holds(part, i) for i in range(len(words)))} THEN 1 ELSE 0 END"
        f" AS in_{part}"
        for part in PARTS
    ]
    score = " + ".join(
        f"{WEIGHTS[part]} * CASE WHEN {holds(part, i)} THEN 1 ELSE 0 END"
        for part in PARTS
        for i in range(len(words))
    )
    if postgres:
        key = "x.slot_id"
        where = [f"x.body ILIKE :w{i}" for i in range(len(words))]
    else:
        key = "x.rowid"
        long = [word for word in words if len(word) >= TRIGRAM]
        where = []
        if long:
            params["match"] = " ".join(_phrase(word) for word in long)
            where.append(f"x.{INDEX} MATCH :match")
        where += [
            "(" + " OR ".join(holds(part, i) for part in PARTS) + ")"
            for i, word in enumerate(words)
            if len(word) < TRIGRAM
        ]
    query = text(
        f"SELECT s.id AS slot_id, r.id AS session_id, r.meets_at AS meets_at,"
        f" s.number AS number, x.title AS title, {score} AS score, {', '.join(flags)},"
        " count(*) OVER () AS total"
        f" FROM {INDEX} AS x JOIN slot AS s ON s.id = {key}"
        " JOIN session AS r ON r.id = s.session_id"
        " WHERE r.group_id = :group_id AND r.cancelled_at IS NULL"
        f" AND {' AND '.join(where)}"
        " ORDER BY r.meets_at DESC, score DESC, s.number"
        " LIMIT :limit"
    ).columns(
        slot_id=Integer,
        session_id=Integer,
        meets_at=UTCDateTime(),
        number=Integer,
        title=Text,
        score=Integer,
        total=Integer,
    )
    rows = session.execute(query, params).mappings().all()
    hits = tuple(
        Hit(
            slot_id=row["slot_id"],
            session_id=row["session_id"],
            meets_at=row["meets_at"],
            number=row["number"],
            title=row["title"],
            score=row["score"],
            parts=tuple(part for part in PARTS if row[f"in_{part}"]),
        )
        for row in rows
    )
    return Found(hits, rows[0]["total"] if rows else 0)
