"""The optional model draft through the real ``openai`` client against a fake endpoint."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core import Yomikai
from bot.drafting.draft import Hints
from tests.fakes.drafting import drafting
from tests.fakes.model_server import FakeModel
from tests.fakes.paper_sites import FakePaperSites
from tests.test_drafting import paper_row

pytestmark = pytest.mark.timeout(60)


async def test_a_japanese_draft_is_translated_whole_and_kept(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    drafter = drafting(core, paper_sites, fake_model)
    facts = await drafter.facts(paper_row("2203.15556"), Hints())
    draft = await drafter.draft(facts, "ja")
    assert draft.translated_title.endswith("の日本語タイトル")
    assert draft.translated_abstract == "要旨の全文を日本語に訳したものです。"
    assert draft.purpose == "目的を日本語で述べます。" and draft.notes == ()
    assert draft.affiliations == ("DeepMind",)  # the author block beats the model
    assert draft.sources["affiliations"] == "author block"
    assert draft.sources["purpose"] == draft.sources["translated_abstract"] == "fake-model-1"
    (call,) = fake_model.calls
    assert call.body["model"] == "fake-model-1"
    assert call.body["response_format"]["type"] == "json_schema"
    prompt = call.body["messages"][1]["content"]
    assert "4× more more data" in prompt and "DeepMind" in prompt  # abstract and page text
    # A second draft of the same paper, version, language and model costs nothing.
    again = await drafter.draft(facts, "ja")
    assert again == draft and len(fake_model.calls) == 1
    await drafter.draft(facts, "en")
    assert len(fake_model.calls) == 2


@pytest.mark.parametrize("mode", ["garbage", "huge"])
async def test_an_unusable_answer_gets_one_retry_then_the_offline_draft(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel, mode: str
) -> None:
    fake_model.mode = mode
    drafter = drafting(core, paper_sites, fake_model)
    facts = await drafter.facts(paper_row("2203.15556"), Hints())
    draft = await drafter.draft(facts, "ja")
    assert len(fake_model.calls) == 2
    retry = fake_model.calls[1].body["messages"]
    assert retry[-1]["role"] == "user" and "not usable" in retry[-1]["content"]
    assert draft.model_name == "Chinchilla" and draft.sources["purpose"] == "abstract"
    assert draft.notes == ("draft.note.model_invalid", "draft.note.untranslated")
    assert draft.translated_abstract == ""


async def test_an_answer_that_passes_on_the_retry_is_used(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    fake_model.mode, fake_model.fail_times = "mixed", 1
    drafter = drafting(core, paper_sites, fake_model)
    draft = await drafter.draft(await drafter.facts(paper_row("2203.15556"), Hints()), "en")
    assert len(fake_model.calls) == 2 and draft.purpose == "The purpose, in English."


async def test_429_and_500_are_retried_with_backoff(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    fake_model.mode, fake_model.fail_times = "429", 1
    drafter = drafting(core, paper_sites, fake_model)
    draft = await drafter.draft(await drafter.facts(paper_row("2203.15556"), Hints()), "en")
    assert len(fake_model.calls) == 2 and draft.sources["summary"] == "fake-model-1"


@pytest.mark.parametrize("mode", ["500", "hang"])
async def test_a_model_that_never_answers_leaves_the_offline_draft(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel, mode: str
) -> None:
    fake_model.mode = mode
    drafter = drafting(core, paper_sites, fake_model, timeout=0.5, retries=1)
    draft = await drafter.draft(await drafter.facts(paper_row("2203.15556"), Hints()), "en")
    assert draft.notes == ("draft.note.model_unavailable",)
    assert draft.model_name == "Chinchilla" and draft.affiliations == ("DeepMind",)
    assert len(fake_model.calls) == 2  # the first try and the client's one retry


async def test_a_server_without_json_schema_gets_json_mode(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    fake_model.mode = "refuse_schema"
    drafter = drafting(core, paper_sites, fake_model)
    draft = await drafter.draft(await drafter.facts(paper_row("2203.15556"), Hints()), "en")
    formats = [call.body["response_format"]["type"] for call in fake_model.calls]
    assert formats == ["json_schema", "json_object"]
    assert draft.purpose == "The purpose, in English."


async def test_at_most_two_requests_at_a_time(
    core: Yomikai, paper_sites: FakePaperSites, fake_model: FakeModel
) -> None:
    fake_model.delay = 0.3
    drafter = drafting(core, paper_sites, fake_model)
    papers = ["2203.15556", "2203.13131", "2203.14465", "2204.00598", "2204.03458"]
    facts = [await drafter.facts(paper_row(p), Hints()) for p in papers]
    drafts = await asyncio.gather(*(drafter.draft(f, "en") for f in facts))
    assert all(d.notes == () for d in drafts) and len(fake_model.calls) == 5
    busiest = max(
        sum(1 for other in fake_model.calls if other.time <= call.time < other.ended)
        for call in fake_model.calls
    )
    assert busiest <= 2


async def test_the_key_is_sent_but_never_logged(
    core: Yomikai,
    paper_sites: FakePaperSites,
    fake_model: FakeModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_model.mode, fake_model.fail_times = "500", 1  # a failure is logged too
    drafter = drafting(core, paper_sites, fake_model, api_key="sk-very-secret-key")
    await drafter.draft(await drafter.facts(paper_row("2203.15556"), Hints()), "en")
    assert fake_model.calls[0].headers["authorization"] == "Bearer sk-very-secret-key"
    assert caplog.records and "sk-very-secret-key" not in caplog.text
