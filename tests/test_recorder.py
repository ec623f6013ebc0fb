"""Requests recorded together (group commit) and SQLite's writer gate (recordings first)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from bot.core import Received, Yomikai
from storage.db import Database, WriterGate
from storage.models import ReceivedRequest

pytestmark = pytest.mark.both_engines


async def test_requests_arriving_together_share_one_statement(core: Yomikai, db: Database) -> None:
    inserts: list[str] = []

    @event.listens_for(db.quick_engine, "before_cursor_execute")
    def seen(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO RECEIVED_REQUEST"):
            inserts.append(statement)

    keys = [f"slack:click-{n}" for n in range(30)] + ["slack:click-3", "slack:click-7"]
    answers = await asyncio.gather(*(core.receive(key) for key in keys))

    assert answers[:30] == [Received.NEW] * 30
    assert answers[30:] == [Received.REPEAT, Received.REPEAT]  # a retry inside the same batch
    assert len(inserts) < len(keys) / 4  # 32 requests, a few statements
    with db.session(read_only=True) as session:
        stored = session.exec(select(func.count()).select_from(ReceivedRequest)).one()
    assert stored == 30
    assert await core.receive("slack:click-0") is Received.REPEAT  # and later, too


def test_a_waiting_recording_goes_before_waiting_writers() -> None:
    gate = WriterGate()
    assert gate.acquire(1.0)
    order: list[str] = []

    def writer(name: str, urgent: bool) -> None:
        assert gate.acquire(5.0, urgent=urgent)
        order.append(name)
        time.sleep(0.01)
        gate.release()

    others = [threading.Thread(target=writer, args=(f"vote{n}", False)) for n in range(3)]
    for thread in others:
        thread.start()
    time.sleep(0.1)  # the votes queue first
    recording = threading.Thread(target=writer, args=("recording", True))
    recording.start()
    time.sleep(0.1)
    gate.release()
    for thread in [*others, recording]:
        thread.join(5)
    assert order[0] == "recording"
    assert sorted(order[1:]) == ["vote0", "vote1", "vote2"]


def test_a_writer_that_waits_too_long_gives_up_and_leaves_the_queue() -> None:
    gate = WriterGate()
    assert gate.acquire(1.0)
    started = time.monotonic()
    assert not gate.acquire(0.1, urgent=True)
    assert time.monotonic() - started >= 0.1
    gate.release()
    assert gate.acquire(0.1)  # nobody is left waiting: the gate is free again
    gate.release()
