"""The card modal: a ``CardForm`` as a Slack view, its submitted state, and errors shown in it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import (
    INPUT_LABEL_LIMIT,
    MODAL_BUTTON_LIMIT,
    MODAL_TITLE_LIMIT,
    Block,
    bold,
    cut,
    escape,
    plain,
    section,
)
from bot.cards import FIELD_LIMIT, LONG_PARTS, SUMMARY_LIMIT
from bot.i18n import t
from bot.messages import CARD_EXTRAS, CARD_FIELDS, CardField, CardForm, Problem

CALLBACK_ID = "card"
KEYS = CARD_FIELDS + CARD_EXTRAS
"""Input blocks in the order the modal shows them; block and action ids are the field keys."""
_MULTILINE = {"purpose", "results", "method", "summary", "translated_abstract"}
ERROR_LIMIT = 300


def limit_of(key: str) -> int:
    return SUMMARY_LIMIT if key in LONG_PARTS else FIELD_LIMIT


@dataclass(frozen=True)
class CardTarget:
    """What a submitted modal is about; kept in the view's ``private_metadata``."""

    channel_id: str
    number: int

    def dump(self) -> str:
        return json.dumps({"channel": self.channel_id, "number": self.number})

    @classmethod
    def load(cls, raw: str) -> CardTarget | None:
        try:
            data = json.loads(raw)
            return cls(str(data["channel"]), int(data["number"]))
        except (ValueError, TypeError, KeyError):
            return None


def card_view(form: CardForm, channel_id: str) -> dict[str, Any]:
    loc = form.locale
    blocks: list[Block] = [section(bold(escape(form.title)))]
    for key in KEYS:
        limit = limit_of(key)
        element: Block = {
            "type": "plain_text_input",
            "action_id": key,
            "multiline": key in _MULTILINE,
            "max_length": limit,
        }
        value = form.values.get(key, "")
        if value:
            element["initial_value"] = cut(value, limit)
        blocks.append(
            {
                "type": "input",
                "block_id": key,
                "optional": True,
                "label": plain(
                    CardField(key, value, key in form.drafted).label(loc), INPUT_LABEL_LIMIT
                ),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": CardTarget(channel_id, form.number).dump(),
        "title": plain(t(loc, "render.card_title", number=form.number), MODAL_TITLE_LIMIT),
        "submit": plain(t(loc, "slack.save"), MODAL_BUTTON_LIMIT),
        "close": plain(t(loc, "slack.cancel"), MODAL_BUTTON_LIMIT),
        "blocks": blocks,
    }


def submitted_fields(view: dict[str, Any]) -> dict[str, str]:
    """The modal's values by field key; an emptied input clears its field."""
    values = view.get("state", {}).get("values", {})
    fields: dict[str, str] = {}
    for key in KEYS:
        entry = values.get(key, {}).get(key)
        if isinstance(entry, dict):
            fields[key] = entry.get("value") or ""
    return fields


def field_errors(problem: Problem, fields: dict[str, str]) -> dict[str, str]:
    """``response_action: errors``: on the field that is too long, else on the first input.

    The core's ``Problem`` does not say which field it is about, so a field over its limit is
    found here (the modal's ``max_length`` keeps that from happening in Slack's own clients).
    """
    text = cut(problem.text, ERROR_LIMIT)
    for key in KEYS:
        if len(fields.get(key, "").strip()) > limit_of(key):
            return {key: text}
    return {KEYS[0]: text}
