"""Redrawing posted ballots in place, at most once per interval per ballot, ending on the latest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Redrawer:
    """``request(key)`` after every change; ``draw(key)`` then runs at most once per ``interval``.

    The first request draws at once; requests while a draw is under way or within the interval
    after it are folded into one more draw at the interval's end, which reads the state then —
    so a burst of clicks costs about one update a second and the last state is always drawn.
    """

    def __init__(self, draw: Callable[[int], Awaitable[None]], interval: float = 1.0) -> None:
        self.draw = draw
        self.interval = interval
        self._running: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()

    def request(self, key: int) -> None:
        if key in self._running:
            self._dirty.add(key)
            return
        self._running[key] = asyncio.create_task(self._loop(key), name=f"redraw {key}")

    async def _loop(self, key: int) -> None:
        try:
            while True:
                self._dirty.discard(key)
                try:
                    await self.draw(key)
                except Exception:
                    log.exception("redrawing %s failed", key)
                await asyncio.sleep(self.interval)
                # No await between this check and leaving: a request now starts a new loop.
                if key not in self._dirty:
                    return
        finally:
            self._running.pop(key, None)

    @property
    def pending(self) -> bool:
        return bool(self._running)

    async def drain(self) -> None:
        """Wait until every requested redraw is drawn."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    def cancel(self) -> None:
        for task in self._running.values():
            task.cancel()
