"""Discord's length limits, and cutting text to fit them with an ellipsis (never a refusal).

Discord counts characters as JavaScript does (UTF-16 code units), so an emoji counts twice.
"""

from __future__ import annotations

from discord.utils import escape_markdown

CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_TOTAL = 6000
"""Title, description, field names and values, footer and author of all embeds of a message."""
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
ROWS = 5
BUTTONS_PER_ROW = 5
BUTTON_LABEL = 80
SELECT_OPTIONS = 25
SELECT_LABEL = 100
SELECT_DESCRIPTION = 100
SELECT_PLACEHOLDER = 150
MODAL_TITLE = 45
INPUT_LABEL = 45
INPUT_VALUE = 4000
CHOICES = 25
CHOICE_NAME = 100
COMMAND_DESCRIPTION = 100

ELLIPSIS = "…"


def size(text: str) -> int:
    """Length as Discord measures it."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit``, else its start and an ellipsis (exactly ``limit`` at most).

    A trailing backslash left by the cut is dropped, so an escape never swallows the ellipsis.
    """
    if size(text) <= limit:
        return text
    if limit <= 0:
        return ""
    head = text[: limit - 1]
    while size(head) > limit - 1:
        head = head[:-1]
    head = head.rstrip()
    while head.endswith("\\"):
        head = head[:-1]
    return head + ELLIPSIS


def escape(text: str) -> str:
    """User and paper text, shown literally: no bold, links or quotes smuggled in."""
    return escape_markdown(text)


def shown(text: str, limit: int) -> str:
    """Escaped and cut: how user or paper text goes into a markdown part of a message."""
    return cut(escape(text), limit)


def link(text: str, url: str, limit: int = 200) -> str:
    """A markdown link whose text is shown literally (``]`` cannot end it early)."""
    label = shown(text, limit).replace("]", "\\]")
    return f"[{label}]({url.replace(')', '%29').replace(' ', '%20')})"
