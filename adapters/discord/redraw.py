"""Redrawing posted ballots in place, debounced: live tallies without hitting rate limits.

The first change is drawn at once; changes that come while a ballot is being drawn or within
``interval`` of its last edit are folded into one more edit, read fresh from the core, so a ballot
is edited at most once per interval and its final state is always drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.core import Yomikai
from bot.posts import BallotPost

log = logging.getLogger(__name__)

Draw = Callable[[BallotPost], Awaitable[None]]


class BallotRedraw:
    def __init__(self, core: Yomikai, draw: Draw, *, interval: float = 1.0) -> None:
        self.core = core
        self.draw = draw
        self.interval = interval
        self.edits = 0
        """Edits made so far (for logs and tests)."""
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._hurry = asyncio.Event()

    def request(self, round_id: int) -> None:
        """Round ``round_id`` changed: its posted ballot (if any) will show it soon."""
        self._dirty.add(round_id)
        task = self._tasks.get(round_id)
        if task is None or task.done():
            self._tasks[round_id] = asyncio.create_task(self._run(round_id))

    @property
    def pending(self) -> bool:
        """A redraw is under way or waiting out its interval."""
        return any(not task.done() for task in self._tasks.values())

    async def flush(self) -> None:
        """Draw what is pending now, without the pause (on shutdown)."""
        self._hurry.set()
        deadline = asyncio.get_running_loop().time() + 30
        try:
            while tasks := [task for task in self._tasks.values() if not task.done()]:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                await asyncio.wait(tasks, timeout=left)
        finally:
            self._hurry.clear()

    async def _run(self, round_id: int) -> None:
        try:
            while round_id in self._dirty:
                self._dirty.discard(round_id)
                await self._draw(round_id)
                if not self._hurry.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), self.interval)
        finally:
            if self._tasks.get(round_id) is asyncio.current_task():
                del self._tasks[round_id]

    async def _draw(self, round_id: int) -> None:
        try:
            post = await self.core.ballot_post(round_id)
            if post is None or post.platform != "discord":
                return
            await self.draw(post)
            self.edits += 1
        except Exception:  # a deleted message, a lost permission: the next change tries again
            log.exception("could not redraw the ballot of round %d", round_id)
