"""Messages as JSON, so a post waiting in the outbox survives a restart exactly as it was made.

Each message is stored as ``{"type": <class name>, "data": …}``; pydantic validates it back into
the frozen dataclass (datetimes with their offset, nested people and lines, tuples).
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from pydantic import TypeAdapter

from bot.messages import Message

_TYPES: dict[str, type] = {cls.__name__: cls for cls in get_args(Message)}


@cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def dump(message: Message) -> dict[str, object]:
    kind: type = type(message)
    return {"type": kind.__name__, "data": _adapter(kind).dump_python(message, mode="json")}


def load(payload: dict[str, Any]) -> Message:
    kind = _TYPES.get(str(payload.get("type")))
    if kind is None:
        raise ValueError(f"not a message type: {payload.get('type')!r}")
    message: Message = _adapter(kind).validate_python(payload.get("data"))
    return message
