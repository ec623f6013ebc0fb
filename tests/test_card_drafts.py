"""Cards that draft themselves, as a group sees them: in the background, marked, never over
what a person wrote, and drawn safely on every platform."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from adapters.discord.render import render as discord_render
from adapters.slack.modal import card_view
from adapters.slack.render import render as slack_render
from bot.context import Invocation
from bot.core import Yomikai
from bot.drafting.draft import DRAFTING
from bot.messages import Agenda, CardForm, SummaryCard
from storage.db import Database
from storage.models import Card
from tests.fakes.chat import FakeChat, ManualClock
from tests.fakes.drafting import drafting
from tests.fakes.model_server import FakeModel
from tests.fakes.paper_sites import FakePaperSites

pytestmark = [pytest.mark.both_engines, pytest.mark.timeout(60)]


async def close_a_round(chat: FakeChat, *papers: str, language: str = "en") -> Agenda:
    await chat.say("alice", f"/yomikai setup papers {len(papers)} language {language}")
    await chat.say("alice", "/yomikai join")
    for paper in papers:
        await chat.say("bob", f"/nominate {paper}")
    await chat.say("alice", "/yomikai open")
    (agenda,) = chat.only(await chat.say("alice", "/yomikai close"), Agenda)
    return agenda


async def summary(chat: FakeChat, number: int = 1) -> SummaryCard:
    (card,) = chat.only(await chat.say("erin", f"/summary {number}"), SummaryCard)
    return card


async def test_the_agenda_goes_out_before_any_draft_and_the_draft_follows(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, db: Database
) -> None:
    drafting(core, paper_sites)
    assert core.drafts is not None
    await close_a_round(chat, "2203.14465")
    assert any(isinstance(sent.message, Agenda) for sent in chat.announced)
    assert paper_sites.hits == []  # nothing was fetched for the agenda
    waiting = await summary(chat)
    assert waiting.drafting and not waiting.finished and all(not f.value for f in waiting.fields)
    assert "Drafting this card" in " ".join(waiting.small_print())

    assert await core.drafts.pass_once() == 1
    card = await summary(chat)
    fields = {f.key: f for f in card.fields}
    assert fields["model_name"].value == "STaR" and fields["model_name"].drafted
    assert fields["affiliations"].value == (
        "Department of Computer Science, Stanford University, Google Research"
    )
    assert fields["affiliations"].source == "author block"
    assert all(f.drafted for f in card.fields) and not card.finished and not card.drafting
    assert card.summary and card.abstract.startswith("Generating step-by-step")
    assert card.small_print() == (
        "Sources: the abstract (Purpose, Results, Method); arXiv metadata (Model name);"
        " the author block (Author affiliations)",
    )
    assert card.missing == ("purpose", "results", "method", "model_name", "affiliations")
    with db.session() as session:
        (stored,) = session.exec(select(Card)).all()
        assert stored.draft_state == "done" and "summary" in stored.drafted


async def test_saving_the_form_makes_the_draft_the_presenters(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites
) -> None:
    drafting(core, paper_sites)
    agenda = await close_a_round(chat, "2203.15556")
    assert core.drafts is not None and await core.drafts.pass_once() == 1
    presenter = agenda.slots[0].presenter
    assert presenter is not None
    (form,) = chat.only(await chat.say(presenter.name, "/card 1"), CardForm)
    assert form.values["model_name"] == "Chinchilla" and "model_name" in form.drafted
    # The Slack modal opens pre-filled, each drafted field marked.
    view = card_view(form, "C1")
    model = next(b for b in view["blocks"] if b.get("block_id") == "model_name")
    assert model["label"]["text"] == "Model name (draft)"
    assert model["element"]["initial_value"] == "Chinchilla"
    # Submitted as shown, with one field changed: all of it is the presenter's now.
    fields = {key: form.values[key] for key in form.values if form.values[key]}
    fields["results"] = "Chinchilla beats Gopher with the same compute."
    inv = Invocation("fake", chat.channel, f"U-{presenter.name}", presenter.name, "card")
    await core.submit_card(inv, 1, fields)
    card = await summary(chat)
    assert card.finished and not card.drafted
    sources = {f.key: f.source for f in card.fields}
    assert sources["model_name"] == "abstract" and sources["results"] == ""


async def test_a_person_s_text_is_never_overwritten_by_a_draft(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites
) -> None:
    drafting(core, paper_sites)
    agenda = await close_a_round(chat, "2203.15556")
    presenter = agenda.slots[0].presenter
    assert presenter is not None and core.drafts is not None
    await chat.say(presenter.name, "/card 1 purpose: my own words affiliations: -")
    await core.drafts.pass_once()  # the draft that was asked for when the round closed
    said = await chat.text(presenter.name, "/card 1 draft")
    assert "being drafted again" in said
    assert await core.drafts.pass_once() == 1
    fields = {f.key: f for f in (await summary(chat)).fields}
    assert fields["purpose"].value == "my own words" and not fields["purpose"].drafted
    assert fields["affiliations"].value == "-" and not fields["affiliations"].drafted
    assert fields["model_name"].value == "Chinchilla" and fields["model_name"].drafted
    # Others may not ask for a presenter's draft.
    problem = await chat.problem("mallory", "/card 1 draft")
    assert "belongs to its presenter" in problem.text


async def test_a_draft_a_dead_process_left_is_taken_up_again(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, db: Database, clock: ManualClock
) -> None:
    drafting(core, paper_sites)
    await close_a_round(chat, "2203.15556")
    with db.session() as session:  # leased by a process that died while drafting
        (card,) = session.exec(select(Card)).all()
        card.draft_state, card.draft_lease_until = DRAFTING, clock.now() + timedelta(minutes=10)
        session.add(card)
    assert core.drafts is not None and await core.drafts.pass_once() == 0
    clock.advance(minutes=11)
    assert await core.drafts.pass_once() == 1
    assert {f.key: f.value for f in (await summary(chat)).fields}["model_name"] == "Chinchilla"


async def test_the_background_worker_drafts_without_being_asked(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, db: Database
) -> None:
    drafting(core, paper_sites)
    await core.start()
    try:
        await close_a_round(chat, "2203.15556", "2203.14465")
        for _ in range(200):
            with db.session() as session:
                states = {c.draft_state for c in session.exec(select(Card)).all()}
            if states == {"done"}:
                break
            await asyncio.sleep(0.05)
        assert states == {"done"}
    finally:
        await core.stop()


async def test_a_japanese_group_without_a_model_is_told_how_to_turn_translation_on(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites
) -> None:
    drafting(core, paper_sites)
    await close_a_round(chat, "2203.15556", language="ja")
    assert core.drafts is not None and await core.drafts.pass_once() == 1
    card = await summary(chat)
    assert card.translated_abstract == "" and card.abstract
    small = " ".join(card.small_print())
    assert "YOMIKAI_LLM_BASE_URL" in small and "出典" in small
    assert {f.key: f.label("ja") for f in card.fields}["purpose"] == "目的（下書き）"


async def test_a_japanese_group_with_a_model_gets_title_and_abstract_translated(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    drafting(core, paper_sites, fake_model)
    await close_a_round(chat, "2203.15556", language="ja")
    assert core.drafts is not None and await core.drafts.pass_once() == 1
    card = await summary(chat)
    assert card.translated_title.endswith("の日本語タイトル")
    assert card.translated_abstract == "要旨の全文を日本語に訳したものです。"
    blocks = json.dumps(slack_render(card).blocks, ensure_ascii=False)
    assert "要旨の訳" in blocks and "要旨の全文を日本語に訳したものです。" in blocks
    assert "fake-model-1（目的、成果、方法、モデル名）" in blocks
    # A second group reading the same paper costs the model nothing.
    other = FakeChat(core, channel="C-second-group")
    core.connect(other)
    await close_a_round(other, "2203.15556", language="ja")
    assert await core.drafts.pass_once() == 1
    assert len(fake_model.calls) == 1 and len(paper_sites.hits) == 1


async def test_nothing_drafted_can_ping_anyone_or_break_markup(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    hostile = "<!channel> @everyone <@U123> *bold* `code` </script>"

    def answer(request: dict[str, object]) -> dict[str, object]:
        text = f"{hostile} The method."
        return dict.fromkeys(("summary", "purpose", "results", "method", "model_name"), text) | {
            "affiliations": [hostile],
            "translated_title": "",
            "translated_abstract": "",
        }

    fake_model.answer = answer
    drafting(core, paper_sites, fake_model)
    paper_sites.pages["2203.15556"] = paper_sites.answer("arxiv", "2203.15556")[1].replace(
        "DeepMind", "<!here> @here DeepMind"
    )
    await close_a_round(chat, "2203.15556")
    assert core.drafts is not None and await core.drafts.pass_once() == 1
    card = await summary(chat)
    assert {f.key: f.value for f in card.fields}["method"].startswith("<!channel>")
    slack = json.dumps(slack_render(card).blocks)
    assert "<!channel>" not in slack and "<!here>" not in slack and "<@U123>" not in slack
    assert "&lt;!channel&gt;" in slack
    # Discord: mentions are switched off on the message, and markdown is shown literally.
    outgoing = discord_render(card)
    assert outgoing.send_kwargs()["allowed_mentions"].everyone is False
    drawn = json.dumps([embed.to_dict() for embed in outgoing.embeds])
    assert "\\\\*bold\\\\*" in drawn and "*bold*" not in drawn.replace("\\\\*", "")


async def test_no_drafter_leaves_cards_to_their_presenters(core: Yomikai, chat: FakeChat) -> None:
    """Without drafting configured (tests, tools) a card starts empty and stays the
    presenter's to write; asking for a draft says so."""
    assert core.drafts is None
    agenda = await close_a_round(chat, "2203.15556")
    card = await summary(chat)
    assert all(not f.value for f in card.fields) and not card.drafting
    with core.db.session() as session:
        assert session.exec(select(Card)).all() == []
    presenter = agenda.slots[0].presenter
    assert presenter is not None
    problem = await chat.problem(presenter.name, "/card 1 draft")
    assert "does not draft cards" in problem.text


async def test_the_meeting_posts_a_draft_marked_as_one(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, clock: ManualClock
) -> None:
    drafting(core, paper_sites)
    agenda = await close_a_round(chat, "2203.15556")
    assert core.drafts is not None and await core.drafts.pass_once() == 1
    clock.advance(seconds=(agenda.meets_at - clock.now()).total_seconds())
    await chat.say("alice", "/yomikai meet")
    (posted,) = [s.message for s in chat.announced if isinstance(s.message, SummaryCard)]
    assert not posted.finished and all(f.drafted for f in posted.fields)
    blocks = json.dumps(slack_render(posted).blocks)
    assert "Model name (draft)" in blocks and "To write or confirm" in blocks
