"""Parsing a command's argument text: words, numbers, dates and member references.

One rule for every command: the words it expects, and no more. A word too many is refused
with the command's usage (``at_most``), never silently dropped; ``/vote`` alone takes several
numbers. Errors quote the words as they were typed (``Word.raw``), not as the parser read them.
"""

from __future__ import annotations

import io
import re
import shlex
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.errors import UserError

MAX_ARGUMENT_TEXT = 4000
_MENTION = re.compile(r"^<@!?([A-Za-z0-9_.\-]{1,64})(?:\|([^>]{0,128}))?>$")
_ANY_MENTION = re.compile(r"<@!?([A-Za-z0-9_.\-]{1,64})(?:\|([^>]{0,128}))?>")
_GROUP_MENTION = re.compile(r"^@?(?:everyone|here|channel)$|^<!|^<@&", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?\d+")


class Word(str):
    """One word of a command, as parsed (quotes removed), and ``raw``: as it was typed."""

    raw: str

    def __new__(cls, value: str, raw: str | None = None) -> Word:
        word = super().__new__(cls, value)
        word.raw = value if raw is None else raw
        return word


def words(text: str) -> list[Word]:
    """Split like a shell (quotes group words); refuse absurdly long or unbalanced input."""
    if len(text) > MAX_ARGUMENT_TEXT:
        raise UserError("args.too_long", limit=MAX_ARGUMENT_TEXT)
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    found: list[Word] = []
    start = 0
    try:
        while (token := lexer.get_token()) is not None:
            end = stream.tell()
            found.append(Word(token, text[start:end].strip()))
            start = end
    except ValueError:
        raise UserError("args.unbalanced_quotes") from None
    return found


def at_most(text: str, count: int) -> list[Word]:
    """The command's words when there are no more than ``count`` of them."""
    found = words(text)
    if len(found) > count:
        extra = " ".join(word.raw for word in found[count:])
        raise UserError("args.extra_words", extra=shorten(extra))
    return found


def number(word: str | None) -> int:
    """A positive whole number such as a slot or candidate number.

    Digits of any width count (``３`` is 3); the value may be any size, so the caller says
    what is out of its range (``There is no slot 99999``).
    """
    if word is None:
        raise UserError("args.missing_number")
    typed = raw(word)
    cleaned = unicodedata.normalize("NFKC", word).strip().lstrip("#")
    if not _NUMBER.fullmatch(cleaned):
        raise UserError("args.not_a_number", value=shorten(typed))
    value = int(cleaned)
    if value < 1:
        raise UserError("args.not_positive", value=shorten(typed))
    return value


def day(word: str) -> date:
    try:
        return date.fromisoformat(unicodedata.normalize("NFKC", word).strip())
    except ValueError:
        raise UserError("args.not_a_date", value=shorten(raw(word))) from None


@dataclass(frozen=True)
class MemberRef:
    """``<@U123|alice>`` (a platform mention, with an id) or ``@alice`` / ``alice`` (a name)."""

    user_id: str | None
    name: str


def member_ref(word: str | None) -> MemberRef:
    if not word:
        raise UserError("args.missing_member")
    typed = word.strip()
    match = _MENTION.match(typed)
    if _GROUP_MENTION.search(match.group(1) if match else typed):  # (<@everyone|…> too)
        raise UserError("args.group_mention", value=shorten(as_shown(typed)))
    if match:
        return MemberRef(user_id=match.group(1), name=match.group(2) or match.group(1))
    name = typed.lstrip("@")
    if not name or len(name) > 128 or name.startswith(("<", "!")) or "@" in name:
        raise UserError("args.not_a_member", value=shorten(as_shown(typed)))
    return MemberRef(user_id=None, name=name)


def as_shown(text: str) -> str:
    """Mentions as a person reads them: ``<@U1|bob>`` → ``@bob``, ``<!channel>`` →
    ``@channel``, a Discord role ``<@&123>`` → ``@role``."""
    text = _ANY_MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = re.sub(r"<!([A-Za-z^]+)[^>]*>", lambda m: "@" + m.group(1).split("^")[0], text)
    return re.sub(r"<@&\d+>", "@role", text)


def raw(word: str) -> str:
    """A word as it was typed (a ``Word``'s ``raw``), or the text itself."""
    return word.raw if isinstance(word, Word) else word


def shorten(text: str, limit: int = 40) -> str:
    """A user's text, cut short for quoting it back in an error."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
