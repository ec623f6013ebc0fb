"""An "Add to Google Calendar" link for a session: Google's event template, filled in.

The times are the group's wall-clock times with ``ctz`` naming its zone, so Google shows the
meeting at 17:00 in Berlin whatever the zone of the person who clicks. Every value is
URL-encoded; a long description is shortened so the link stays within what browsers and chat
platforms take (``LIMIT``).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from bot.meeting.ics import local_times
from bot.messages import MeetingEvent

TEMPLATE = "https://calendar.google.com/calendar/render"
LIMIT = 1800
"""Characters a link may have at most (Slack and Discord cut long text; browsers stop at ~8k)."""
_STAMP = "%Y%m%dT%H%M%S"


def google_link(event: MeetingEvent, limit: int = LIMIT) -> str:
    """The link that opens Google Calendar's "new event" form with the session filled in."""
    starts_at, ends_at = local_times(event)
    params = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{starts_at:{_STAMP}}/{ends_at:{_STAMP}}",
        "ctz": event.zone,
    }
    if event.location:
        params["location"] = event.location

    def made(details: str) -> str:
        return f"{TEMPLATE}?{urlencode(params | {'details': details}, quote_via=quote, safe='/')}"

    whole = made(event.description)
    if len(whole) <= limit:
        return whole
    low, high = 0, len(event.description)  # the longest start of it that fits, and "…"
    while low < high:
        middle = (low + high + 1) // 2
        if len(made(event.description[:middle].rstrip() + "…")) <= limit:
            low = middle
        else:
            high = middle - 1
    return made(event.description[:low].rstrip() + "…" if low else "")
