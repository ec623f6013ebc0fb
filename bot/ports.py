"""What the core needs from a chat platform to speak unprompted (scheduled posts, reminders).

Adapters implement ``ChatAdapter``; the scheduler and the core only ever see this protocol.
"""

from __future__ import annotations

from typing import Protocol

from bot.messages import Message


class ChatAdapter(Protocol):
    platform: str
    """The ``Invocation.platform`` this adapter produces (``slack``, ``discord``, ``console``)."""

    async def post(self, channel_id: str, message: Message) -> str:
        """Post ``message`` to a channel; returns the platform's reference to edit it later."""
        ...

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        """Redraw an earlier post in place (a ballot's tallies, a card)."""
        ...

    async def dm(
        self, user_id: str, message: Message, *, fallback_channel_id: str | None = None
    ) -> str | None:
        """Send ``message`` privately to one member; None when it could not be delivered.

        Where the member does not take direct messages, an adapter may post it in
        ``fallback_channel_id`` (the group's channel) instead.
        """
        ...
