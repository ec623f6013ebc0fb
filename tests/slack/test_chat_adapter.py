"""What the scheduler uses: ``bot.ports.ChatAdapter`` posts, in-place updates and DMs."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages import Agenda, AgendaSlot, Notice, Person, Reminder
from bot.ports import ChatAdapter
from tests.slack.slack_side import CHANNEL, SlackSide

MEETS = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


async def test_post_update_and_dm(slack: SlackSide) -> None:
    fake = slack.fake
    adapter: ChatAdapter = slack.adapter
    assert adapter.platform == "slack"
    slot = AgendaSlot(
        1,
        "2204.06974",
        "Backdoors",
        "https://arxiv.org/abs/2204.06974",
        Person("U0BOB", "bob"),
        False,
    )
    ref = await adapter.post(CHANNEL, Agenda("en", MEETS, (slot,)))
    (posted,) = fake.to("chat.postMessage")
    assert posted.result["ts"] == ref and posted.args["channel"] == CHANNEL
    await adapter.update(CHANNEL, ref, Notice("Session moved"))
    (updated,) = fake.to("chat.update")
    assert updated.args["ts"] == ref and "Session moved" in updated.text()

    reminder = Reminder(
        "en", 1, "Backdoors", "https://arxiv.org/abs/2204.06974", MEETS, ("method",)
    )
    sent = await adapter.dm("U0BOB", reminder)
    (opened,) = fake.to("conversations.open")
    assert opened.args["users"] == "U0BOB"
    dm = fake.to("chat.postMessage")[-1]
    assert sent == dm.result["ts"] and dm.args["channel"] == "D0BOB"
    assert "Your card 1 is not finished yet" in dm.text()

    fake.fail("conversations.open", "user_not_found")
    assert await adapter.dm("U0GONE", reminder) is None
