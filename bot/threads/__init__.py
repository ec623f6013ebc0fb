"""A discussion thread per posted card: started once, the presenter named in it, questions kept."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadMessage:
    """What a member wrote in a thread, as an adapter hears it (never a command)."""

    platform: str
    ref: str
    """The thread: Slack's parent ``ts``, a Discord thread's id (``PaperThread.ref``)."""
    key: str
    """The message's identity on the platform, so a message delivered twice is kept once."""
    author_id: str
    text: str
    channel_id: str | None = None
    """The group's channel, where thread references are unique only per channel (Slack)."""
    author_name: str = ""
