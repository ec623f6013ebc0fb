"""Drafting one paper: its facts gathered, the offline rules applied, the model asked if set."""

from __future__ import annotations

from dataclasses import replace

from bot.drafting.draft import AFFILIATIONS_SHOWN, Draft, Hints, PaperFacts
from bot.drafting.model import CardAnswer, ModelClient
from bot.drafting.pages import PaperPages
from bot.drafting.rules import offline_draft
from storage.models import Paper


class Drafter:
    """The default drafts offline; ``pages`` adds the HTML author block, ``model`` the model."""

    def __init__(self, pages: PaperPages | None = None, model: ModelClient | None = None) -> None:
        self.pages = pages
        self.model = model

    async def aclose(self) -> None:
        if self.pages is not None:
            await self.pages.aclose()
        if self.model is not None:
            await self.model.aclose()

    async def facts(self, paper: Paper, hints: Hints) -> PaperFacts:
        facts = PaperFacts(
            arxiv_id=paper.arxiv_id,
            title=paper.title,
            abstract=paper.abstract,
            version=paper.version,
            authors=tuple(paper.authors),
            affiliations=tuple(paper.affiliations),
            hints=hints,
        )
        if self.pages is None or facts.affiliations:
            return facts
        page = await self.pages.page(paper.arxiv_id, paper.version, paper.authors)
        return replace(facts, page=page)

    async def draft(self, facts: PaperFacts, language: str) -> Draft:
        offline = offline_draft(facts)
        if self.model is None:
            return _noted(offline, language, "draft.note.no_model" if language == "ja" else "")
        answer, note = await self.model.answer(facts, language)
        if answer is None:
            return _noted(offline, language, note)
        return _merged(offline, answer, self.model.name)


def _noted(draft: Draft, language: str, note: str) -> Draft:
    notes = [*draft.notes, note] if note else list(draft.notes)
    if language == "ja" and note != "draft.note.no_model":
        notes.append("draft.note.untranslated")
    return replace(draft, notes=tuple(notes))


def _merged(offline: Draft, answer: CardAnswer, model: str) -> Draft:
    """The model's text, with the facts the sources found kept where they have them."""
    sources = dict.fromkeys(("summary", "purpose", "results", "method", "model_name"), model)
    affiliations, more = offline.affiliations, offline.more_affiliations
    if affiliations:
        sources["affiliations"] = offline.sources["affiliations"]
    elif answer.affiliations:
        affiliations = tuple(answer.affiliations[:AFFILIATIONS_SHOWN])
        more = max(0, len(answer.affiliations) - AFFILIATIONS_SHOWN)
        sources["affiliations"] = model
    if answer.translated_title:
        sources["translated_title"] = model
    if answer.translated_abstract:
        sources["translated_abstract"] = model
    return replace(
        offline,
        summary=answer.summary,
        purpose=answer.purpose,
        results=answer.results,
        method=answer.method,
        model_name=answer.model_name,
        affiliations=affiliations,
        more_affiliations=more,
        translated_title=answer.translated_title,
        translated_abstract=answer.translated_abstract,
        sources=sources,
        notes=() if affiliations else offline.notes,  # (the offline notes are about those)
    )
