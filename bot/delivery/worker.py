"""The one delivery path: sends what the outbox holds, in order, and retries until it is out.

Whoever queued posts (a command, a job) calls ``flush`` with their ids, so a post goes out at
once in the common case; the background ``run`` loop sends whatever is left (a send that failed,
a row a dead process left behind) with backoff and jitter. Posts of one group go out in the
order they were queued: a post that cannot go yet holds back the ones after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from bot.deck.delivery import DeckMaker
from bot.delivery import outbox
from bot.delivery.errors import DeliveryError, EventsRefused, MessageGone
from bot.meeting import sync
from bot.messages import DeckPost, MeetingEvent, ThreadOpening
from bot.ports import ChatAdapter, EventPlatform, ThreadPlatform
from bot.threads import store as threads
from bot.unit import Unit

log = logging.getLogger(__name__)

SEND_TIMEOUT = 10.0
"""A platform call that has not answered by then counts as failed (and is tried again);
at most two thirds of the lease (``outbox.LEASE``, or ``YOMIKAI_SEND_LEASE``)."""
FIRST_BACKOFF = 2.0
MAX_BACKOFF = 300.0
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Sent:
    """What one send did: delivered (with the message's reference) or why not."""

    post_id: int
    ok: bool
    error: DeliveryError | None = None

    @property
    def waits(self) -> bool:
        """Not sent yet, but it will be tried again (the posts after it wait for it)."""
        return not self.ok and self.error is not None and self.error.transient


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from 2 s to 5 min, plus jitter."""
    base = min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    return max(base * (0.5 + random.random()), retry_after or 0.0)


class Delivery:
    def __init__(
        self, unit: Unit, adapters: Mapping[str, ChatAdapter], lease: timedelta = outbox.LEASE
    ) -> None:
        self.unit = unit
        self.adapters = adapters
        self.lease = lease
        """How long a post being sent is this process's; a dead sender's is sent again then."""
        self.send_timeout = min(SEND_TIMEOUT, lease.total_seconds() * 2 / 3)
        self.sent = 0
        """Posts delivered by this process (for logs and benchmarks)."""
        self.decks = DeckMaker(unit)
        """Makes a session's deck file when its post is sent."""
        self._wake = asyncio.Event()

    async def flush(self, post_ids: Iterable[int]) -> list[Sent]:
        """Send these posts now, in order; stop at the first that cannot go (the loop retries)."""
        results = []
        for post_id in post_ids:
            result = await self._send(post_id)
            if result is None:
                break
            results.append(result)
            if result.waits:
                self.wake()
                break
        return results

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send what is left, every few seconds (or when woken), until ``stop`` is set."""
        while not stop.is_set():
            self._wake.clear()  # (before the pass: a wake during it means one more pass)
            try:
                await self.pass_once()
            except Exception:  # the database is down: the next pass tries again
                log.exception("delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def pass_once(self) -> int:
        """One pass over the unsent posts of the platforms this process serves; how many went."""
        platforms = set(self.adapters)
        if not platforms:
            return 0
        rows = await self.unit.in_thread(lambda s: outbox.unsent(s, platforms), read_only=True)
        held: set[int] = set()
        delivered = 0
        for post_id, group_id in rows:
            if group_id in held:
                continue
            result = await self._send(post_id)
            if result is None or result.waits:
                held.add(group_id)  # keep this group's later posts in order behind it
            elif result.ok:
                delivered += 1
        return delivered

    async def _send(self, post_id: int) -> Sent | None:
        """Lease and send one post; None when it is not ours to send now (not due, taken)."""
        now = self.unit.clock.now()
        platforms = set(self.adapters)
        leased = await self.unit.in_thread(
            lambda s: outbox.lease(s, post_id, now, platforms, self.lease)
        )
        if leased is None:
            return None
        adapter = self.adapters[leased.platform]
        try:
            if isinstance(leased.message, DeckPost):  # made now, outside the send's time limit
                leased = replace(leased, message=await self.decks.make(leased.message))
            ref = await asyncio.wait_for(self._call(adapter, leased), self.send_timeout)
        except DeliveryError as error:
            if not error.transient:
                reason = error.reason
                if not isinstance(error, MessageGone):
                    log.warning("post %s given up: %s", leased.key, reason)
                await self.unit.in_thread(lambda s: outbox.mark_failed(s, post_id, reason))
                return Sent(post_id, False, error)
            await self._retry(leased, error, backoff(leased.attempts, error.retry_after))
            return Sent(post_id, False, error)
        except Exception as unexpected:  # a timeout, a dropped connection, a bug: try again
            reason = f"{type(unexpected).__name__}: {unexpected}"[:200]
            log.warning("post %s failed (%s); trying again", leased.key, reason)
            passing = DeliveryError(reason, transient=True)
            await self._retry(leased, passing, backoff(leased.attempts))
            return Sent(post_id, False, passing)
        done = self.unit.clock.now()
        await self.unit.in_thread(lambda s: outbox.mark_sent(s, post_id, ref, done))
        self.sent += 1
        return Sent(post_id, True)

    async def _retry(self, leased: outbox.Leased, error: DeliveryError, delay: float) -> None:
        due = self.unit.clock.now() + timedelta(seconds=delay)
        await self.unit.in_thread(lambda s: outbox.mark_retry(s, leased.id, error.reason, due))

    async def _call(self, adapter: ChatAdapter, leased: outbox.Leased) -> str | None:
        message = leased.message
        if leased.kind == outbox.REDRAW:
            return await self._redraw(adapter, leased)
        if isinstance(message, ThreadOpening):
            return await self._thread(adapter, leased, message)
        if isinstance(message, MeetingEvent):
            return await self._event(adapter, leased, message)
        if message is None:  # a ballot whose round is gone
            return None
        if leased.kind == outbox.DM:
            return await adapter.dm(
                leased.target,
                message,
                fallback_channel_id=leased.channel_id,
                key=leased.token,
                since=leased.since,
            )
        return await adapter.post(leased.channel_id, message, key=leased.token, since=leased.since)

    async def _redraw(self, adapter: ChatAdapter, leased: outbox.Leased) -> str | None:
        round_id = int(leased.target)
        post = await self.unit.in_thread(lambda s: outbox.ballot_post(s, round_id), read_only=True)
        if post is None:
            state = await self.unit.in_thread(
                lambda s: outbox.state_of(s, outbox.ballot_key(round_id))
            )
            if state == outbox.SENDING:  # the ballot is on its way: redraw once it is out
                raise DeliveryError("the ballot is being posted", transient=True)
            return None  # never posted (or given up): it will be drawn fresh when it goes
        await adapter.update(post.channel_id, post.ref, post.ballot)
        return post.ref

    async def _thread(
        self, adapter: ChatAdapter, leased: outbox.Leased, opening: ThreadOpening
    ) -> str | None:
        """Start the card's thread under its post, once the post is out."""
        if not isinstance(adapter, ThreadPlatform):
            return None  # no threads here (the console)
        parent = await self.unit.in_thread(
            lambda s: outbox.sent_ref(s, opening.parent_key), read_only=True
        )
        if parent is None or parent[0] == outbox.FAILED:
            return None  # the card never went out: no thread to start under it
        state, parent_ref = parent
        if state != outbox.SENT or parent_ref is None:
            raise DeliveryError("the card is being posted", transient=True)
        thread = await adapter.open_thread(
            leased.channel_id, parent_ref, opening, key=leased.token, since=leased.since
        )
        now = self.unit.clock.now()
        await self.unit.in_thread(lambda s: threads.remember(s, opening.slot_id, thread, now))
        return thread.ref

    async def _event(
        self, adapter: ChatAdapter, leased: outbox.Leased, event: MeetingEvent
    ) -> str | None:
        """Bring the platform's calendar event of the session up to date (where there is one)."""
        if not isinstance(adapter, EventPlatform):
            return None
        if event.starts_at <= self.unit.clock.now() and not event.cancelled:
            return None  # begun or over: platforms keep such an event as it was
        session_id = event.session_id
        ref = await self.unit.in_thread(lambda s: sync.event_ref(s, session_id), read_only=True)
        try:
            made = await adapter.sync_event(leased.channel_id, event, ref)
        except EventsRefused as refusal:
            log.info("calendar event of session %d refused: %s", session_id, refusal.reason)
            now = self.unit.clock.now()
            told = await self.unit.in_thread(lambda s: sync.refused(s, session_id, now))
            await self.flush(told)  # the organizers' direct messages, once
            return None
        await self.unit.in_thread(lambda s: sync.synced(s, session_id, made))
        return made

    async def redraw_ballots(self, since: datetime) -> None:
        """Draw every posted ballot that may have changed (at start: a crash may have left one
        showing old tallies). Failures are logged; later votes redraw again."""
        rounds = await self.unit.in_thread(lambda s: outbox.open_ballots(s, since))
        for round_id in rounds:
            post = await self.unit.in_thread(partial(outbox.ballot_post, round_id=round_id))
            adapter = self.adapters.get(post.platform) if post is not None else None
            if post is None or adapter is None:
                continue
            try:
                await asyncio.wait_for(
                    adapter.update(post.channel_id, post.ref, post.ballot), self.send_timeout
                )
            except Exception:
                log.warning("could not redraw the ballot of round %d at start", round_id)
