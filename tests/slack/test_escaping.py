"""A hostile paper title and hostile user text reach Slack escaped: no @channel, no mention."""

from __future__ import annotations

import pytest

from tests.fakes import arxiv_server
from tests.fakes.arxiv_server import FakeArxiv
from tests.slack.slack_side import SlackSide, ballot_posted, posted

HOSTILE_ID = "2212.00001"
HOSTILE_TITLE = "<!channel> <!here> Free GPUs & <@U0BOSS> <https://evil.example|click me>"


@pytest.fixture
def hostile_paper(fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> str:
    entry = arxiv_server.ENTRIES["2204.06974"].replace("2204.06974", HOSTILE_ID)
    title = HOSTILE_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    entry = entry.replace("Planting Undetectable Backdoors in Machine Learning Models", title)
    monkeypatch.setitem(arxiv_server.ENTRIES, HOSTILE_ID, entry)
    return HOSTILE_ID


async def test_hostile_title_and_text_are_escaped(slack: SlackSide, hostile_paper: str) -> None:
    fake = slack.fake
    await posted(slack, "alice", "/yomikai setup")
    (nominated,) = await posted(slack, "alice", f"/nominate {hostile_paper} <!everyone> read it")
    await slack.command("alice", "/yomikai open")
    ballot = await ballot_posted(fake)
    await slack.command("bob", "/vote <@U0BOSS|boss> <!subteam^S123>")
    await fake.wait_calls("response_url")
    await slack.adapter.settle()

    everything = "".join(c.text() for c in fake.calls)
    for control in (
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0BOSS",
        "<!subteam",
        "<https://evil",
    ):
        assert control not in everything
    assert "&lt;!channel&gt; &lt;!here&gt; Free GPUs &amp; &lt;@U0BOSS&gt;" in nominated.text()
    assert "&lt;!everyone&gt; read it" in nominated.text()
    assert "&lt;!channel&gt;" in nominated.args["text"]  # the notification text too
    # The ballot links the paper, with the escaped title as the link's text.
    assert f"<https://arxiv.org/abs/{HOSTILE_ID}|&lt;!channel&gt;" in ballot.text()
