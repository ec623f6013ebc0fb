"""``/search <words>``: the group's sessions' papers and cards that hold every word.

Words are ANDed and found anywhere inside a text (``storage.search``: FTS5 trigram on SQLite,
``pg_trgm`` on PostgreSQL), so ``拡散`` finds 「拡散モデルによる画像生成」. Results come newest
session first and, within a session, best match first: the question is usually "when did we
read that?", and lines of one session stay together, each with the date and slot number that
``/summary <n> <date>`` opens.
"""

from __future__ import annotations

from bot import args
from bot.context import Tx
from bot.errors import UserError
from bot.messages import Notice, Reply
from storage import search as index

SHOWN = 10
"""Lines shown; the reply says how many more were found."""
MAX_WORDS = 10
QUOTES = "\"'“”‘’「」『』"
"""Stripped from a word's ends (``"diffusion model"`` looks for both words); a word made of
nothing but quotes is looked for as it is."""


def search_words(text: str) -> list[str]:
    """The words to look for, each once, as typed (no query syntax: ``*``, ``%`` are text)."""
    if len(text) > args.MAX_ARGUMENT_TEXT:
        raise UserError("args.too_long", limit=args.MAX_ARGUMENT_TEXT)
    return list(dict.fromkeys(word.strip(QUOTES) or word for word in text.split()))


def search(tx: Tx, text: str) -> Reply:
    group = tx.bound_group
    words = search_words(text)
    if not words:
        raise UserError("search.empty")
    if len(words) > MAX_WORDS:
        raise UserError("search.too_many", count=len(words), limit=MAX_WORDS)
    found = index.search(tx.session, group.id or 0, words, limit=SHOWN)
    shown = args.shorten(" ".join(words), 80)
    if not found.hits:
        return Reply.tell(Notice(tx.tr("search.nothing", words=shown)))
    separator = tx.tr("render.separator")
    lines = []
    for hit in found.hits:
        parts = separator.join(_part(tx, part) for part in hit.parts)
        day = _day(tx, hit)
        lines.append(
            tx.tr("search.line", date=day, number=hit.number, title=hit.title, parts=parts)
        )
    if found.total > len(found.hits):
        lines.append(tx.tr("search.more", count=found.total - len(found.hits)))
    first = found.hits[0]
    lines.append(tx.tr("search.hint", number=first.number, date=_day(tx, first)))
    title = tx.tr("search.title", words=shown, count=found.total)
    return Reply.tell(Notice(title, title=title, lines=tuple(lines)))


def _day(tx: Tx, hit: index.Hit) -> str:
    """The session's date in the group's zone: the one ``/summary n DATE`` takes."""
    return f"{hit.meets_at.astimezone(tx.zone):%Y-%m-%d}"


def _part(tx: Tx, part: str) -> str:
    if part in ("title", "abstract"):
        return tx.tr(f"search.part_{part}")
    return tx.tr(f"card.{part}")
