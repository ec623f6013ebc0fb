"""Redrawing posted ballots in place: live tallies, at most one edit per interval per ballot.

Every adapter that edits a posted candidate list uses this. ``request(round)`` after each change:
the first change is drawn at once; changes during a draw or within ``interval`` of it are folded
into one more draw, read fresh from the database. After its last draw, a ballot is read once more
an interval later and drawn again if it still differs from what was drawn. That last read is
what keeps replicas right: a replica that read the tallies just before another replica's vote
committed, and whose edit reached the platform last, would otherwise leave the ballot one click
behind. A draw that fails (a 5xx, a rate limit outlasting the client's retries, a call that
hangs) is tried again with a growing pause, so the last click of a round is never left undrawn;
only a message that is gone ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.delivery.errors import MessageGone
from bot.delivery.outbox import BallotPost, ballot_post
from bot.messages import CandidateList
from bot.unit import Unit

log = logging.getLogger(__name__)

Draw = Callable[[BallotPost], Awaitable[None]]
"""Edit the posted message ``post.ref`` in ``post.channel_id`` to show ``post.ballot``."""

DRAW_TIMEOUT = 10.0
"""A draw that has not answered by then has failed (and is tried again)."""
DRAW_ATTEMPTS = 8
"""Failed draws in a row before a ballot is left until its next change."""


class BallotRedraw:
    def __init__(self, unit: Unit, platform: str, draw: Draw, *, interval: float = 1.0) -> None:
        self.unit = unit
        self.platform = platform
        self.draw = draw
        self.interval = interval
        self.edits = 0
        """Edits made so far (for logs and benchmarks)."""
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._hurry = asyncio.Event()

    def request(self, round_id: int) -> None:
        """Round ``round_id`` changed: its posted ballot (if any) will show it soon."""
        self._dirty.add(round_id)
        task = self._tasks.get(round_id)
        if task is None or task.done():
            self._tasks[round_id] = asyncio.create_task(
                self._run(round_id), name=f"redraw round {round_id}"
            )

    @property
    def pending(self) -> bool:
        """A redraw is under way or waiting out its interval."""
        return any(not task.done() for task in self._tasks.values())

    async def drain(self, *, hurry: bool = False, timeout: float = 30.0) -> None:
        """Wait until every ballot shows its latest state; ``hurry`` skips the pauses (shutdown)."""
        if hurry:
            self._hurry.set()
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while tasks := [task for task in self._tasks.values() if not task.done()]:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    log.warning("ballot redraws still pending after %.0f s", timeout)
                    break
                await asyncio.wait(tasks, timeout=left)
        finally:
            self._hurry.clear()

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    async def _run(self, round_id: int) -> None:
        drawn: CandidateList | None = None
        failures = 0
        try:
            while True:
                self._dirty.discard(round_id)
                post = await self._read(round_id)
                pause = self.interval
                if post is not None and post.ballot != drawn:
                    outcome = await self._draw(post)
                    if outcome is None:
                        return  # the message is gone
                    if outcome:
                        drawn, failures = post.ballot, 0
                    else:
                        failures += 1
                        if failures >= DRAW_ATTEMPTS:
                            return
                        self._dirty.add(round_id)
                        pause = self.interval * 2**failures
                elif round_id not in self._dirty:
                    return  # settled: what is posted is what is stored
                if not self._hurry.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), pause)
        finally:
            # No await since the check above: a request from now on starts a new task.
            if self._tasks.get(round_id) is asyncio.current_task():
                del self._tasks[round_id]

    async def _read(self, round_id: int) -> BallotPost | None:
        try:
            post = await self.unit.in_thread(lambda s: ballot_post(s, round_id), read_only=True)
        except Exception:  # the database hiccuped: the next change tries again
            log.exception("could not read the ballot of round %d", round_id)
            return None
        return post if post is not None and post.platform == self.platform else None

    async def _draw(self, post: BallotPost) -> bool | None:
        """True when drawn, False when it failed (try again), None when the message is gone."""
        try:
            await asyncio.wait_for(self.draw(post), DRAW_TIMEOUT)
        except MessageGone:
            log.info("the ballot of round %d is gone; not redrawn", post.ballot.round_id)
            return None
        except Exception as error:
            round_id = post.ballot.round_id
            log.warning("could not redraw the ballot of round %d (%r)", round_id, error)
            return False
        self.edits += 1
        return True
