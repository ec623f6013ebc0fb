"""Parsing a command's argument text: words, numbers, dates and member references."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date

from bot.errors import UserError

MAX_ARGUMENT_TEXT = 4000
_MENTION = re.compile(r"^<@!?([A-Za-z0-9_.\-]{1,64})(?:\|([^>]{0,128}))?>$")


def words(text: str) -> list[str]:
    """Split like a shell (quotes group words); refuse absurdly long or unbalanced input."""
    if len(text) > MAX_ARGUMENT_TEXT:
        raise UserError("args.too_long", limit=MAX_ARGUMENT_TEXT)
    try:
        return shlex.split(text)
    except ValueError:
        raise UserError("args.unbalanced_quotes") from None


def number(word: str | None, *, what: str = "n") -> int:
    """A positive whole number such as a slot or candidate number."""
    if word is None:
        raise UserError("args.missing_number")
    cleaned = word.strip().lstrip("#")
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 6:
        raise UserError("args.not_a_number", value=shorten(word))
    value = int(cleaned)
    if value < 1:
        raise UserError("args.not_positive", value=value)
    return value


def day(word: str) -> date:
    try:
        return date.fromisoformat(word.strip())
    except ValueError:
        raise UserError("args.not_a_date", value=shorten(word)) from None


@dataclass(frozen=True)
class MemberRef:
    """``<@U123|alice>`` (a platform mention, with an id) or ``@alice`` / ``alice`` (a name)."""

    user_id: str | None
    name: str


def member_ref(word: str | None) -> MemberRef:
    if not word:
        raise UserError("args.missing_member")
    match = _MENTION.match(word.strip())
    if match:
        return MemberRef(user_id=match.group(1), name=match.group(2) or match.group(1))
    name = word.strip().lstrip("@")
    if not name or len(name) > 128 or name.startswith(("<", "!")):
        raise UserError("args.not_a_member", value=shorten(word))
    return MemberRef(user_id=None, name=name)


def shorten(text: str, limit: int = 40) -> str:
    """A user's text, cut short for quoting it back in an error."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
