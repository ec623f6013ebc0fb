"""What the core needs from a chat platform to speak: posts, edits, direct messages, late answers.

Adapters implement ``ChatAdapter``; the delivery worker and the core only ever see this protocol.
A send that fails raises ``bot.delivery.errors.DeliveryError`` (or anything else, which counts
as a passing failure and is tried again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.messages import MeetingEvent, Message, Reply, ThreadOpening


class ChatAdapter(Protocol):
    platform: str
    """The ``Invocation.platform`` this adapter produces (``slack``, ``discord``, ``console``)."""

    async def post(
        self, channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        """Post ``message`` to a channel; returns the platform's reference to edit it later.

        ``key`` is the outbox key. With ``since`` set, an earlier attempt may have posted it:
        the adapter makes sure it is not posted twice (Discord: the nonce; Slack: the key in
        the message's metadata, looked up in the channel's history from ``since``).
        """
        ...

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        """Redraw an earlier post in place (a ballot's tallies, a card)."""
        ...

    async def dm(
        self,
        user_id: str,
        message: Message,
        *,
        fallback_channel_id: str | None = None,
        key: str = "",
        since: datetime | None = None,
    ) -> str | None:
        """Send ``message`` privately to one member; None when it could not be delivered.

        Where the member does not take direct messages, an adapter may post it in
        ``fallback_channel_id`` (the group's channel) instead.
        """
        ...

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        """Answer a request that was run again after a restart (``address`` is what the
        adapter recorded with it: a Slack ``response_url``); a no-op where that cannot be."""
        ...


@dataclass(frozen=True)
class Thread:
    """A discussion thread the platform made: its reference, and a link members open."""

    ref: str
    link: str = ""


@runtime_checkable
class ThreadPlatform(Protocol):
    """An adapter whose platform has threads (Slack, Discord); the console has none."""

    async def open_thread(
        self,
        channel_id: str,
        parent_ref: str,
        opening: ThreadOpening,
        *,
        key: str = "",
        since: datetime | None = None,
    ) -> Thread:
        """Start a thread under the posted message ``parent_ref`` and post ``opening`` in it.

        With ``since`` set, an earlier attempt may have done part of it: neither the thread
        nor its opening message is made twice.
        """
        ...


@runtime_checkable
class EventPlatform(Protocol):
    """An adapter whose platform keeps calendar events of its own (Discord's scheduled events)."""

    async def sync_event(self, channel_id: str, event: MeetingEvent, ref: str | None) -> str | None:
        """Make (``ref`` None), update or cancel the platform's event for ``event``; its
        reference. Raises ``EventsRefused`` when the bot may not manage events there."""
        ...
