"""What the core needs from a chat platform to speak: posts, edits, direct messages, late answers.

Adapters implement ``ChatAdapter``; the delivery worker and the core only ever see this protocol.
A send that fails raises ``bot.delivery.errors.DeliveryError`` (or anything else, which counts
as a passing failure and is tried again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.messages import Message, Reply


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
