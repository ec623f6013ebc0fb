"""The weekly cycle on Discord, through discord.py against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route

from bot.core import Yomikai
from tests.discord_adapter.chat import (
    DiscordChat,
    Member,
    assert_nothing_pings,
    custom_ids,
    ephemeral,
    text,
)
from tests.discord_adapter.conftest import MakeAdapter
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord


async def open_round(chat: DiscordChat) -> dict:
    """A group with three nominated papers and an open round; the posted ballot message."""
    await chat.run(
        "ada", "yomikai-admin setup", timezone="Asia/Tokyo", day="wed", time="17:00", papers=2
    )
    for user in ("bob", "carol"):
        await chat.run(user, "yomikai join")
    await chat.run("ada", "nominate", paper="2204.06974", why="great backdoor paper")
    await chat.run("bob", "nominate", paper="https://arxiv.org/abs/2204.06974v2")
    await chat.run("carol", "nominate", paper="arXiv:2204.00598")
    await chat.run("carol", "nominate", paper="2203.14465")
    said = await chat.run("ada", "yomikai-admin open")
    (ballot,) = [m for m in said if custom_ids(m)]
    return ballot


async def test_whole_cycle(adapter, fake_discord: FakeDiscord, core: Yomikai) -> None:
    chat = DiscordChat(adapter, fake_discord)
    (created,) = await chat.run("ada", "yomikai-admin setup", timezone="Asia/Tokyo", day="wed")
    assert not ephemeral(created) and "Asia/Tokyo" in text(created)

    # Nominations are announced publicly; mistakes are told privately, with usage.
    (said,) = await chat.run("ada", "nominate", paper="2204.06974", why="great backdoor paper")
    assert not ephemeral(said) and "Ada nominated" in text(said)
    assert "Planting Undetectable Backdoors" in text(said) and "great backdoor paper" in text(said)
    (problem,) = await chat.run("bob", "nominate", paper="not-a-paper")
    assert ephemeral(problem) and "/nominate" in text(problem)
    await chat.run("bob", "nominate", paper="2204.00598")
    await chat.run("carol", "nominate", paper="2203.14465")

    # The round opens: a public ballot with one persistent vote button per candidate.
    said = await chat.run("ada", "yomikai-admin open")
    (ballot,) = [m for m in said if custom_ids(m)]
    assert not ephemeral(ballot)
    ids = custom_ids(ballot)
    assert len(ids) == 3 and all(i.startswith("vote:") for i in ids)
    round_id = int(ids[0].split(":")[1])
    post = await core.ballot_post(round_id)
    assert post is not None and post.ref == ballot["id"] and post.channel_id == str(CHANNEL_ID)

    # A click: a private confirmation, and the posted ballot's tally edited in place.
    (confirm,) = await chat.click("bob", ballot, ids[1])
    assert ephemeral(confirm) and "counts; votes now: 1" in text(confirm)
    edits = fake_discord.calls_to("PATCH", rf"/channels/{CHANNEL_ID}/messages/{ballot['id']}")
    assert len(edits) == 1
    assert "votes: 1" in edits[0].body["embeds"][0]["fields"][1]["value"]

    # /vote n works too, and /candidates shows the ballot privately.
    (confirm,) = await chat.run("carol", "vote", n=2)
    assert ephemeral(confirm) and "votes now: 2" in text(confirm)
    (shown,) = await chat.run("erin", "candidates")
    assert ephemeral(shown) and "votes: 2" in shown["embeds"][0]["fields"][1]["value"]

    # Presenters opt in; the round closes into an agenda; the ballot loses its buttons.
    for user in ("bob", "carol"):
        await chat.run(user, "yomikai join")
    await chat.run("ada", "yomikai-admin setup", papers=2)
    (agenda,) = [m for m in await chat.run("ada", "yomikai-admin close") if m["embeds"]]
    assert not ephemeral(agenda) and "2204.00598" in text(agenda)
    assert fake_discord.messages[ballot["id"]]["components"] == []
    assert "Voting closed" in text(fake_discord.messages[ballot["id"]])

    # /card n opens a form of five fields, prefilled; saving offers the second form.
    presenter = "bob" if "Bob" in agenda["embeds"][0]["fields"][0]["value"] else "carol"
    payload = chat.payload(presenter, "card", n=1)
    assert await chat.send(payload) == []
    (modal,) = [c for c in fake_discord.callbacks(payload) if c["type"] == 9]
    inputs = [row["components"][0] for row in modal["data"]["components"]]
    assert [i["custom_id"] for i in inputs] == [
        "purpose",
        "results",
        "method",
        "model_name",
        "affiliations",
    ]
    values = {
        "purpose": "Understand scaling",
        "method": "Prompting",
        "results": "",
        "model_name": "",
    }
    (saved,) = await chat.submit(presenter, modal["data"]["custom_id"], values)
    assert ephemeral(saved) and "Still missing" in text(saved)
    (extras_button,) = custom_ids(saved)
    assert extras_button == "cardform:1:extras"
    payload = fake_discord.click(saved, extras_button, user=presenter)
    await chat.send(payload)
    (second,) = [c for c in fake_discord.callbacks(payload) if c["type"] == 9]
    keys = [row["components"][0]["custom_id"] for row in second["data"]["components"]]
    assert keys == ["summary", "translated_title", "translated_abstract"]
    summary = {"summary": "A long summary.", "translated_title": "タイトル"}
    (saved,) = await chat.submit(presenter, second["data"]["custom_id"], summary)
    assert "Card 1 saved" in text(saved)

    # Typed fields save directly; anyone reads the card as an embed.
    (saved,) = await chat.run(
        presenter, "card", n=1, results="Better", model="PaLM", affiliations="Google"
    )
    assert "Card 1 is finished" in text(saved)
    # The draft option reaches the core (this bot was built without drafting).
    (refused,) = await chat.run(presenter, "card", n=1, draft="draft")
    assert ephemeral(refused) and "does not draft cards" in text(refused)
    (card,) = await chat.run("erin", "summary", n=1)
    assert ephemeral(card) and "PaLM" in text(card) and "タイトル" in text(card)

    # The organizer exports the session: privately, a Markdown file of every card.
    (exported,) = await chat.run("ada", "yomikai-admin export")
    assert ephemeral(exported) and "as Markdown: 2 cards" in text(exported)
    (attachment,) = exported["attachments"]
    assert attachment["filename"].startswith("yomikai-2026-12-")
    (call,) = [c for c in fake_discord.calls if attachment["filename"] in c.files]
    markdown = call.files[attachment["filename"]].decode()
    assert "## Card 1 · " in markdown and "### Model name\n\nPaLM" in markdown
    assert "## Card 2 · " in markdown and "A long summary." in markdown
    # With a format, the deck goes to the channel as an attachment.
    said = await chat.run("ada", "yomikai-admin export", format="md")
    assert any(ephemeral(m) and "is being posted to the channel" in text(m) for m in said)
    decks = [
        (name, data)
        for c in fake_discord.calls
        for name, data in c.files.items()
        if data.startswith(b"---\nmarp: true")
    ]
    assert [name for name, _ in decks] == [attachment["filename"]]  # one file, in the channel
    assert b"PaLM" in decks[0][1]

    # Slots change hands; a member picked in an option is a mention the core understands.
    (dropped,) = await chat.run(presenter, "yomikai drop", n=1)
    assert not ephemeral(dropped) and "gave slot 1 back" in text(dropped)
    (stranger,) = await chat.run("ada", "yomikai-admin assign", n=1, member=Member("dave"))
    assert ephemeral(stranger) and "I don't know “Dave” in this group yet" in text(stranger)
    await chat.run("dave", "yomikai join")  # (now the group knows dave)
    (assigned,) = await chat.run("ada", "yomikai-admin assign", n=1, member=Member("dave"))
    assert "Dave presents slot 1" in text(assigned)
    assert_nothing_pings(fake_discord)


async def test_start_syncs_commands_and_reads_the_gateway(
    adapter, fake_discord: FakeDiscord
) -> None:
    (sync,) = fake_discord.calls_to("PUT", r"/applications/\d+/guilds/\d+/commands")
    commands = {c["name"]: c for c in sync.body}
    assert {"nominate", "candidates", "vote", "summary", "card", "presenters", "yomikai"} <= set(
        commands
    )
    n = commands["summary"]["options"][0]
    assert (n["name"], n["type"], n["autocomplete"], n["min_value"]) == ("n", 4, True, 1)
    assert commands["summary"]["description_localizations"]["ja"].startswith("最新の回")
    # Members' subcommands under /yomikai, for everyone; organizers' under /yomikai-admin,
    # which Discord shows only to members with Manage Server (until an admin says otherwise).
    member_subs = {o["name"] for o in commands["yomikai"]["options"]}
    assert member_subs == {
        "join",
        "leave",
        "take",
        "drop",
        "away",
        "back",
        "status",
        "history",
        "help",
    }
    (words,) = commands["search"]["options"]  # /search: one text option, required
    assert (words["name"], words["type"], words["required"]) == ("words", 3, True)
    assert commands["yomikai"]["default_member_permissions"] is None
    admin = commands["yomikai-admin"]
    assert int(admin["default_member_permissions"]) == discord.Permissions.manage_guild.flag
    assert admin["dm_permission"] is False and commands["yomikai"]["dm_permission"] is False
    subs = {o["name"]: o for o in admin["options"]}
    assert set(subs) == {
        "setup",
        "schedule",
        "poll",
        "open",
        "close",
        "remind",
        "meet",
        "assign",
        "swap",
        "move",
        "cancel",
        "organizer",
        "export",
        "calendar",
    }
    assert "(organizers)" in subs["open"]["description"]
    assert admin["description_localizations"]["ja"].startswith("読み会のオーガナイザー用")
    assert [o["type"] for o in subs["assign"]["options"]] == [4, 6]
    card_options = [o["name"] for o in commands["card"]["options"]]
    assert card_options[:2] == ["n", "draft"] and "translation" in card_options
    assert len(card_options) == 10 and "translated_abstract" in card_options
    # DISCORD_API_URL set: the gateway address came from the fake's GET /gateway.
    assert fake_discord.calls_to("GET", "/gateway")
    (dialled,) = fake_discord.gateway_urls
    host = fake_discord.base.removeprefix("http://")
    assert dialled.split("://")[1].startswith(f"{host}/gateway?v=10")
    assert fake_discord.identified[0]["token"] == "fake-bot-token"


async def test_global_sync_without_a_guild(make_adapter: MakeAdapter, fake_discord) -> None:
    await make_adapter(guild_id=None)
    assert fake_discord.calls_to("PUT", r"/applications/\d+/commands")
    assert not fake_discord.calls_to("PUT", r"/applications/\d+/guilds/\d+/commands")


async def test_organizer_commands_read_as_discord_lists_them(adapter, fake_discord) -> None:
    chat = DiscordChat(adapter, fake_discord)
    # Before any setup, the hint names the command a Discord organizer can actually find.
    (hint,) = await chat.run("bob", "candidates")
    assert ephemeral(hint) and "/yomikai-admin setup" in text(hint)
    assert "/yomikai setup" not in text(hint)
    await chat.run("ada", "yomikai-admin setup", timezone="Asia/Tokyo")
    (help_,) = await chat.run("bob", "yomikai help")
    lines = text(help_)
    assert "/yomikai join" in lines and "/yomikai-admin open" in lines
    assert "/yomikai-admin assign <n> @member" in lines and "/yomikai open" not in lines
    # Seeing /yomikai-admin (Manage Server) does not make bob an organizer: the core refuses.
    (refused,) = await chat.run("bob", "yomikai-admin open")
    assert ephemeral(refused) and "Only organizers" in text(refused)
    assert "/yomikai-admin organizer @you" in text(refused)
    assert "/yomikai status" in text(refused)  # a member's command keeps its name
    assert not any(custom_ids(m) for m in fake_discord.channel_messages())  # no ballot
    # Mistakes in organizer commands show usage and hints as typed on Discord.
    (early,) = await chat.run("ada", "yomikai-admin swap", n=1, m=2)
    assert "(/yomikai-admin close)" in text(early)
    (wrong,) = await chat.run("ada", "yomikai-admin schedule", text="banana")
    assert "/yomikai-admin schedule open mon 10:00" in text(wrong)


async def test_interactions_arrive_through_the_gateway(adapter, fake_discord) -> None:
    chat = DiscordChat(adapter, fake_discord)
    payload = chat.payload("ada", "yomikai help")
    await fake_discord.dispatch("INTERACTION_CREATE", payload)
    (help_,) = await fake_discord.answered(payload)
    assert ephemeral(help_) and "/yomikai take <n>" in text(help_)


async def test_autocomplete_suggests_this_sessions_slots(adapter, fake_discord) -> None:
    chat = DiscordChat(adapter, fake_discord)
    await open_round(chat)
    await chat.run("ada", "yomikai-admin close")
    options = [{"name": "n", "type": 4, "value": "", "focused": True}]
    payload = fake_discord.command("summary", options, user="erin", kind=4)
    await chat.send(payload)
    (answer,) = fake_discord.callbacks(payload)
    choices = answer["data"]["choices"]
    assert answer["type"] == 8 and [c["value"] for c in choices] == [1, 2]
    assert choices[0]["name"].startswith("1. ")


async def test_a_slow_command_defers_then_follows_up(make_adapter: MakeAdapter, fake_discord):
    chat = DiscordChat(await make_adapter(defer_after=0.0), fake_discord)
    # Private reply: the "thinking…" placeholder becomes the answer.
    payload = chat.payload("ada", "yomikai help")
    (help_,) = await chat.send(payload)
    assert [c["type"] for c in fake_discord.callbacks(payload)] == [5]
    assert ephemeral(help_) and "/yomikai take <n>" in text(help_)
    assert fake_discord.calls_to("PATCH", rf"/webhooks/\d+/{payload['token']}/messages/@original")
    # Public reply: the ephemeral placeholder goes, the announcement follows for everyone.
    payload = chat.payload("ada", "yomikai-admin setup", timezone="Asia/Tokyo")
    (created,) = await chat.send(payload)
    assert not ephemeral(created) and "Asia/Tokyo" in text(created)
    assert fake_discord.calls_to("DELETE", rf"/webhooks/\d+/{payload['token']}/messages/@original")
    # /card n cannot open a form after deferring: it offers a button that opens it.
    await open_round(chat)
    await chat.run("ada", "yomikai-admin close")
    await chat.run("ada", "yomikai-admin assign", n=1, member=Member("ada"))
    (offer,) = await chat.run("ada", "card", n=1)
    assert ephemeral(offer) and custom_ids(offer) == ["cardform:1:fields"]
    assert_nothing_pings(fake_discord)


async def test_a_wrong_token_stops_the_start(make_adapter: MakeAdapter, fake_discord) -> None:
    fake_discord.fail("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    saved = Route.BASE
    with pytest.raises(discord.LoginFailure):
        await make_adapter()
    assert saved == Route.BASE  # the process-wide REST base is given back


async def test_search_finds_a_japanese_card_on_discord(adapter, fake_discord: FakeDiscord) -> None:
    """/search with its text option: a two-character word inside a card's Japanese method."""
    chat = DiscordChat(adapter, fake_discord)
    await chat.run("ada", "yomikai-admin setup", papers=1)
    await chat.run("ada", "nominate", paper="2204.03458")
    await chat.run("ada", "yomikai-admin open")
    await chat.run("ada", "yomikai-admin close")
    (saved,) = await chat.run("ada", "card", n=1, method="拡散モデルによる画像生成")
    assert "Card 1 saved" in text(saved)
    (found,) = await chat.run("erin", "search", words="拡散")
    assert ephemeral(found) and "Search: 拡散 (1 found)" in text(found)
    assert "2026-12-09 · 1. Video Diffusion Models — Method" in text(found)
    assert "/summary 1 2026-12-09" in text(found)
    (history,) = [m for m in await chat.run("erin", "yomikai history") if ephemeral(m)][:1]
    assert "Who presented what" in text(history)
