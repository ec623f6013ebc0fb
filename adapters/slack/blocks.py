"""Block Kit building blocks: escaping of user and paper text, and cutting to Slack's limits.

Every string from users or arXiv passes through ``escape`` (``&``, ``<``, ``>`` become entities),
so it can never form a mention, a ``<!channel>`` or a link; ``fit`` then cuts it to a limit
without splitting an entity.
"""

from __future__ import annotations

import re
from typing import Any

Block = dict[str, Any]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
CONTEXT_LIMIT = 2000
BUTTON_LIMIT = 75
FALLBACK_LIMIT = 3000
MAX_BLOCKS = 50
MODAL_TITLE_LIMIT = 24
MODAL_BUTTON_LIMIT = 24
INPUT_LABEL_LIMIT = 2000
INPUT_MAX_LENGTH = 3000
ELLIPSIS = "…"

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def escape(text: str) -> str:
    """Text shown as itself: Slack reads only ``&``, ``<`` and ``>`` as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(escaped: str, limit: int) -> str:
    """Cut already-escaped text to ``limit`` characters, ending in an ellipsis when cut."""
    if len(escaped) <= limit:
        return escaped
    return _PARTIAL_ENTITY.sub("", escaped[: limit - len(ELLIPSIS)]) + ELLIPSIS


def cut(raw: str, limit: int) -> str:
    """Cut raw (unescaped) text, e.g. a modal input's initial value, to ``limit`` characters."""
    return raw if len(raw) <= limit else raw[: limit - len(ELLIPSIS)] + ELLIPSIS


def plain(raw: str, limit: int) -> Block:
    return {"type": "plain_text", "text": fit(escape(raw), limit) or " ", "emoji": True}


def mrkdwn(escaped: str, limit: int = SECTION_LIMIT) -> Block:
    return {"type": "mrkdwn", "text": fit(escaped, limit) or " ", "verbatim": True}


def header(raw: str) -> Block:
    return {"type": "header", "text": plain(raw, HEADER_LIMIT)}


def section(escaped: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(escaped)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*escaped: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(e, CONTEXT_LIMIT) for e in escaped if e]}


def button(raw_label: str, action_id: str, *, primary: bool = False) -> Block:
    block: Block = {
        "type": "button",
        "text": plain(raw_label, BUTTON_LIMIT),
        "action_id": action_id,
        "value": action_id,
    }
    if primary:
        block["style"] = "primary"
    return block


def link(url: str, raw_text: str) -> str:
    """``<url|text>`` for web links; any other scheme is shown as text only."""
    if not url.startswith(("https://", "http://")):
        return escape(raw_text)
    safe_url = escape(url.replace("|", "%7C").replace(" ", "%20"))
    label = escape(raw_text)
    return f"<{safe_url}|{label}>" if label else f"<{safe_url}>"


def bold(escaped: str) -> str:
    return f"*{escaped}*" if escaped.strip() else escaped


def mention(user_id: str, raw_name: str) -> str:
    """A Slack mention for a real Slack user id; otherwise the escaped name."""
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(raw_name)


def chunks(escaped_lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join lines into as few texts of at most ``limit`` characters as possible."""
    texts: list[str] = []
    current = ""
    for line in escaped_lines:
        line = fit(line, limit)
        joined = f"{current}\n{line}" if current else line
        if len(joined) > limit:
            texts.append(current)
            joined = line
        current = joined
    if current:
        texts.append(current)
    return texts
