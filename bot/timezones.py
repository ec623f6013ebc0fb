"""The time zones a group may meet in: canonical IANA ``Area/Location`` names, and ``UTC``.

``zoneinfo.available_timezones()`` alone is not the rule: on Debian it also lists ``localtime``
(whatever the server's clock is set to), ``Factory``, and the ``posix/…`` and ``right/…`` copies
(``right/`` zones count leap seconds, so their clocks are off by half a minute).
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
_CANONICAL = re.compile(rf"^(?:{'|'.join(_AREAS)})/[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*$")


@cache
def zones() -> tuple[str, ...]:
    """Every zone a group may choose, sorted."""
    found = {zone for zone in available_timezones() if _CANONICAL.match(zone)}
    return tuple(sorted(found | {"UTC"}))


@cache
def _by_lower() -> dict[str, str]:
    return {zone.lower(): zone for zone in zones()}


def canonical_zone(name: str) -> str | None:
    """``asia/tokyo`` → ``Asia/Tokyo``; None for what is no zone a group may meet in."""
    return _by_lower().get(name.strip().lower())
