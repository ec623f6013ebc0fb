"""100 clicks from 20 people at once: every click answered, the tally right, few chat.updates."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

from sqlmodel import select

from storage.db import Database
from storage.models import Vote
from tests.slack.slack_side import SlackFactory, ballot_posted, buttons, posted, tallies

PAPERS = ["2204.06974", "2204.00598", "2203.14465", "2204.03458", "2203.15556"]
CLICKS = ([0, 1, 3, 1, 2], [0, 0, 0, 4, 4])
"""Each member's five clicks, as offsets from their own first candidate (with take-backs)."""


async def test_a_burst_of_100_clicks(slack_factory: SlackFactory, db: Database) -> None:
    slack = await slack_factory(redraw_interval=1.0)
    fake = slack.fake
    await posted(slack, "alice", "/yomikai setup")
    for paper in PAPERS:
        await posted(slack, "alice", f"/nominate {paper}")
    await slack.command("alice", "/yomikai open")
    ballot = await ballot_posted(fake)
    actions, ts = buttons(ballot), ballot.result["ts"]

    clicks = [
        (f"member{i:02d}", actions[(i % 3 + offset) % len(actions)])
        for i in range(20)
        for offset in CLICKS[i % 2]
    ]
    toggles = Counter(clicks)
    expected = [0] * len(actions)
    for (_, action), times in toggles.items():
        expected[actions.index(action)] += times % 2

    started = time.monotonic()
    answers = await asyncio.gather(*(slack.click(user, action, ts) for user, action in clicks))
    assert {status for status, _, _ in answers} == {200}
    slowest_ack = max(took for _, _, took in answers)
    assert slowest_ack < 3.0

    def final() -> bool:
        updates = [c for c in fake.to("chat.update") if c.args["ts"] == ts]
        return bool(updates) and tallies(updates[-1]) == expected

    await fake.wait_for(final, timeout=20, what=f"the ballot redrawn with {expected}")
    await fake.wait_calls("response_url", 100, timeout=20)
    await slack.adapter.settle()
    elapsed = time.monotonic() - started

    updates = [c for c in fake.to("chat.update") if c.args["ts"] == ts]
    assert tallies(updates[-1]) == expected  # the last drawn state is the final one
    gaps = [b.time - a.time for a, b in itertools.pairwise(updates)]
    assert all(gap >= 0.95 for gap in gaps), gaps
    assert len(updates) <= elapsed + 1
    with db.session() as session:
        assert len(session.exec(select(Vote)).all()) == sum(expected)
    print(
        f"\n100 clicks: {len(updates)} chat.update in {elapsed:.2f} s,"
        f" slowest ack {slowest_ack * 1000:.0f} ms, tallies {expected}"
    )
