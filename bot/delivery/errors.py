"""How an adapter says that a send did not go through, in words the delivery worker acts on."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send failed. ``transient``: try again later (429, 5xx, a timeout, a dropped connection);
    otherwise the post is given up (the channel is gone, the bot may not post there).

    ``notice_key`` names a catalog sentence for the member whose command caused the post
    (``slack.not_in_channel``); ``retry_after`` is the platform's own wait, in seconds.
    """

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        notice_key: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after
        self.notice_key = notice_key


class MessageGone(DeliveryError):
    """The message to edit no longer exists (deleted by someone): nothing left to redraw."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, transient=False)


class EventsRefused(DeliveryError):
    """The platform will not let the bot keep calendar events (Discord without *Manage Events*):
    the organizers are told once, and the meeting goes on without one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, transient=False)
