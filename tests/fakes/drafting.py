"""Drafting wired to the fakes: the real pages client, budget and model client on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace

from bot.core import Yomikai
from bot.drafting.drafter import Drafter
from bot.drafting.model import ModelClient
from bot.drafting.pages import PaperPages
from bot.sources.politeness import SharedBudget
from tests.fakes.model_server import MODEL, FakeModel
from tests.fakes.paper_sites import FakePaperSites


def drafting(
    core: Yomikai,
    sites: FakePaperSites,
    model: FakeModel | None = None,
    *,
    spacing: float = 0.0,
    timeout: float = 5.0,
    retries: int = 2,
    api_key: str | None = "sk-test-secret",
) -> Drafter:
    """Give ``core`` a drafter (and its background worker) that reads the fakes."""
    budget = SharedBudget(core.db, "arxiv", spacing=spacing)
    pages = PaperPages(core.unit, budget, sites.arxiv_url, sites.ar5iv_url, timeout=timeout)
    client = None
    if model is not None:
        client = ModelClient(
            core.unit, model.url, MODEL, api_key, timeout=timeout, max_retries=retries
        )
    drafter = Drafter(pages, client)
    core.services = replace(core.services, drafter=drafter)
    return drafter
