"""Text from papers, cards and members, written into Markdown so that it shows literally.

The session export and the Marp deck both escape through here: no text can open a code block,
start a heading, a quote, a list or a new slide, carry HTML or a comment (``<!--``), make a
link (``[x](javascript:…)``) or ping a whole channel.
"""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_\[\]|~])")
"""Marks that mean something anywhere in a line (emphasis, code, links, table cells)."""
_LINE_START = re.compile(r"^(\s*)([#>+=:-])")
"""What starts a block at the start of a line: a heading, quote, list, rule or ``---``."""
_NUMBERED = re.compile(r"^(\s*\d+)([.)])")
_CROWD = re.compile(r"@(everyone|here|channel)", re.IGNORECASE)


def escape_line(line: str) -> str:
    """One line shown literally."""
    line = line.strip().replace("&", "&amp;").replace("<", "&lt;")
    line = _CROWD.sub("@\u200b\\1", _INLINE.sub(r"\\\1", line))
    return _NUMBERED.sub(r"\1\\\2", _LINE_START.sub(r"\1\\\2", line))


def escape(text: str, *, paragraphs: bool = False) -> str:
    """Text shown literally: its lines joined by hard line breaks; with ``paragraphs``, a
    blank line stays a paragraph break (without, blank lines are dropped)."""
    blocks = re.split(r"\n\s*\n", text) if paragraphs else [text]
    shown = []
    for block in blocks:
        lines = [escape_line(line) for line in block.splitlines() if line.strip()]
        if lines:
            shown.append("  \n".join(lines))
    return "\n\n".join(shown)


def cell(text: str) -> str:
    """Text for a table cell: escaped, and on one line (a line break would end the row)."""
    return escape_line(" ".join(text.split()))
