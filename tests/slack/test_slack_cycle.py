"""The whole week through Slack: signed requests to the running app, asserted on what Slack got."""

from __future__ import annotations

import json

from sqlmodel import select

from storage.db import Database
from storage.models import Card, Nomination, Vote
from tests.fakes.slack_api import Call
from tests.slack.slack_side import (
    CHANNEL,
    SlackSide,
    ballot_posted,
    buttons,
    ephemerals_to,
    posted,
    said_to,
    tallies,
    user_id,
)


async def test_whole_week_in_slack(slack: SlackSide, db: Database) -> None:
    fake = slack.fake
    (setup,) = await posted(slack, "alice", "/yomikai setup timezone Asia/Tokyo day wed time 17:00")
    assert setup.args["channel"] == CHANNEL and "Asia/Tokyo" in setup.text()
    for user in ("alice", "bob", "carol"):
        await posted(slack, user, "/yomikai join")

    # Nominations: the arXiv lookup happens after the ack; a second nomination is support.
    (nominated,) = await posted(slack, "alice", '/nominate 2204.06974 "great backdoor paper"')
    assert "alice nominated “Planting Undetectable Backdoors" in nominated.text()
    (support,) = await posted(slack, "bob", "/nominate https://arxiv.org/abs/2204.06974v2")
    assert "nominations now: 2" in support.text()
    await posted(slack, "carol", "/nominate arXiv:2204.00598")

    # Voting opens: a Block Kit ballot with one vote button per candidate, link and tally.
    await slack.command("alice", "/yomikai open")
    ballot = await ballot_posted(fake)
    assert ballot.blocks[0]["type"] == "header"
    actions = buttons(ballot)
    assert len(actions) == 2 and all(a.startswith("vote:") for a in actions)
    assert "<https://arxiv.org/abs/2204.06974|Planting Undetectable Backdoors" in ballot.text()
    ts = ballot.result["ts"]

    # bob clicks; carol types /vote 2: each gets a private answer, the ballot is redrawn in place.
    status, _, took = await slack.click("bob", actions[0], ts)
    assert status == 200 and took < 3.0
    said = await fake.wait_for(lambda: ephemerals_to(fake, "bob"))
    assert "Your vote for 1" in said[-1].text()
    said = await said_to(slack, "carol", "/vote 2")
    assert "Your vote for 2" in said.text()

    def redrawn_with(expected: str) -> Call | None:
        updates = [c for c in fake.to("chat.update") if c.args["ts"] == ts]
        return updates[-1] if updates and expected in updates[-1].text() else None

    def tallied(expected: list[int]) -> Call | None:
        update = redrawn_with("votes")
        return update if update and tallies(update) == expected else None

    update = await fake.wait_for(lambda: tallied([1, 1]))
    assert update.args["channel"] == CHANNEL

    # /candidates shows erin her own copy; a click there redraws that copy for her too.
    private = await said_to(slack, "erin", "/candidates")
    assert buttons(private) == actions and tallies(private) == [1, 1]
    await slack.click("erin", actions[1], "1749748000.000001", ephemeral=True)
    redrawn = await fake.wait_for(
        lambda: [c for c in fake.to("response_url") if c.args.get("replace_original")]
    )
    assert tallies(redrawn[0]) == [1, 2] and redrawn[0].path.endswith("/erin")
    await fake.wait_for(lambda: tallied([1, 2]))

    # A nomination while voting is open lands on the ballot (redrawn with a third button).
    await posted(slack, "dave", "/nominate 2203.14465")
    update = await fake.wait_for(lambda: redrawn_with("Video") or redrawn_with("2203.14465"))
    assert len(buttons(update)) == 3

    # Closing: the agenda is posted, the ballot is redrawn closed (no buttons any more).
    (agenda,) = await posted(slack, "alice", "/yomikai close")
    assert agenda.blocks[0]["type"] == "header" and "Session of" in agenda.text()
    assert "<@U0" in agenda.text()  # presenters are mentioned
    closed = await fake.wait_for(lambda: redrawn_with("Voting closed"))
    assert buttons(closed) == []
    before = len(ephemerals_to(fake, "erin"))
    late = await slack.click("erin", actions[0], ts)
    assert late[0] == 200
    said = await fake.wait_for(lambda: ephemerals_to(fake, "erin")[before:])
    assert "round that is closed" in said[0].text()

    # The first slot's presenter opens the card modal: five fields, summary, translated title.
    presenter = next(
        name
        for name in ("alice", "bob", "carol")
        if "*1.*" in agenda.blocks[1]["text"]["text"]
        and f"<@{user_id(name)}>" in agenda.blocks[1]["text"]["text"]
    )
    status, _, _ = await slack.command(presenter, "/card 1")
    (opened_call,) = await fake.wait_calls("views.open")
    assert opened_call.args["trigger_id"]
    view = opened_call.args["view"]
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert inputs == [
        "purpose",
        "results",
        "method",
        "model_name",
        "affiliations",
        "summary",
        "translated_title",
        "translated_abstract",
    ]
    assert "Purpose" in json.dumps(view)

    # Too long: the field's own error, nothing saved.
    status, body, _ = await slack.submit(presenter, view, {"method": "x" * 1001})
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "method" in answer["errors"]
    # Somebody else's card: an error on the first input.
    status, body, _ = await slack.submit("erin", view, {"purpose": "mine now"})
    assert "belongs to its presenter" in json.loads(body)["errors"]["purpose"]
    # Saved: the modal closes (empty ack) and the presenter is told privately.
    values = {"purpose": "backdoors", "method": "signatures", "results": "undetectable"}
    status, body, _ = await slack.submit(presenter, view, values)
    assert (status, body) == (200, "")
    saved = await fake.wait_for(
        lambda: [c for c in fake.to("chat.postEphemeral") if "Card 1 saved" in c.text()]
    )
    assert saved[0].args["user"] == user_id(presenter)
    assert "Model name" in saved[0].text()

    # Prefilled next time.
    await slack.command(presenter, "/card 1")
    second = (await fake.wait_calls("views.open", 2))[1].args["view"]
    method_block = next(b for b in second["blocks"] if b.get("block_id") == "method")
    assert method_block["element"]["initial_value"] == "signatures"

    # Anyone reads the card: header, the five fields, link, presenter.
    card = await said_to(slack, "erin", "/summary 1")
    assert card.blocks[0]["type"] == "header" and "Card 1" in card.text()
    for label in ("Purpose", "Results", "Method", "Model name", "Author affiliations"):
        assert label in card.text()
    assert "<https://arxiv.org/abs/" in card.text() and f"<@{user_id(presenter)}>" in card.text()

    # The organizer exports the session: privately, the Markdown in code blocks to copy.
    exported = await said_to(slack, "alice", "/yomikai export")
    (intro, *document) = [b["text"]["text"] for b in exported.blocks]
    assert intro == "Session of 2026-12-09 as Markdown: 3 cards."
    assert all(part.startswith("```\n") and part.endswith("\n```") for part in document)
    markdown = "\n".join(part[4:-4] for part in document)
    assert "## Card 1 · 2026-12-" in markdown and "### Purpose\n\nbackdoors" in markdown
    assert "Planting Undetectable Backdoors" in markdown
    problem = await said_to(slack, "bob", "/yomikai export")
    assert "Only organizers" in problem.text()

    # With a format, the deck goes to the channel as one file (files_upload_v2), also when
    # Slack delivers the command a second time.
    before = len(ephemerals_to(fake, "alice"))
    body = slack.command_body("alice", "/yomikai export html")
    status, _, _ = await slack.send(body)
    assert status == 200
    (told,) = await fake.wait_for(lambda: ephemerals_to(fake, "alice")[before:], what="told")
    assert "is being posted to the channel" in told.text()
    await fake.wait_calls("files.completeUploadExternal")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    status, _, _ = await slack.send(body, headers=retry)  # recognised before it is acknowledged
    assert status == 200
    (shared,) = fake.shared
    assert shared["name"] == shared["title"] == "yomikai-2026-12-09.html"
    assert shared["channel"] == CHANNEL and "the deck" in shared["initial_comment"]
    assert (
        shared["data"].startswith(b"<!DOCTYPE html>") and b"Planting Undetectable" in shared["data"]
    )
    (asked,) = fake.to("files.getUploadURLExternal")
    assert int(asked.args["length"]) == len(shared["data"])

    # Mistakes are private and explain themselves.
    problem = await said_to(slack, "erin", "/vote banana")
    assert "not a number" in problem.text() and "Usage" in problem.text()
    presenters = await said_to(slack, "erin", "/presenters")
    assert "Session of" in presenters.text()

    with db.session() as session:
        assert len(session.exec(select(Nomination)).all()) == 4
        assert len(session.exec(select(Vote)).all()) == 3
        (stored,) = session.exec(select(Card)).all()
        assert stored.method == "signatures" and stored.purpose == "backdoors"


async def test_search_finds_a_japanese_card_in_slack(slack: SlackSide) -> None:
    """/search is a slash command of its own: a word inside a card's Japanese method is found,
    with the date and slot that /summary opens."""
    await posted(slack, "alice", "/yomikai setup papers 1")
    await posted(slack, "alice", "/nominate 2204.03458")
    await slack.command("alice", "/yomikai open")
    await ballot_posted(slack.fake)
    await posted(slack, "alice", "/yomikai close")
    saved = await said_to(slack, "alice", "/card 1 method: 拡散モデルによる画像生成")
    assert "Card 1 saved" in saved.text()
    found = await said_to(slack, "erin", "/search 画像生成")
    assert "Search: 画像生成 (1 found)" in found.text()
    assert "2026-12-09 · 1. Video Diffusion Models — Method" in found.text()
    assert "/summary 1 2026-12-09" in found.text()
    card = await said_to(slack, "erin", "/summary 1 2026-12-09")
    assert "拡散モデルによる画像生成" in card.text()
    nothing = await said_to(slack, "erin", "/search 光合成")
    assert "Nothing in this group's sessions holds “光合成”" in nothing.text()
