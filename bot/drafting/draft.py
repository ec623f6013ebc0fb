"""A card's draft and the facts it is made from: plain values, no database, no network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ABSTRACT = "abstract"
AUTHOR_BLOCK = "author block"
ARXIV_METADATA = "arXiv metadata"
HUGGING_FACE = "Hugging Face"
SOURCES = (ABSTRACT, AUTHOR_BLOCK, ARXIV_METADATA, HUGGING_FACE)
"""Where drafted text can come from; a model's answer is recorded by the model's name."""

NO_MODEL_NAME = "-"
"""A paper that names no system of its own (a survey, an analysis)."""

PENDING = "pending"
DRAFTING = "drafting"
DONE = "done"
FAILED = "failed"
"""A card's ``draft_state``: asked for (durable), being written (leased), written, given up."""

AFFILIATIONS_SHOWN = 8
"""Institutions listed on a card; the rest are counted ("+N more")."""


@dataclass(frozen=True)
class Hints:
    """What Hugging Face's daily papers said about a paper (kept when it trended there)."""

    ai_summary: str = ""
    ai_keywords: tuple[str, ...] = ()
    github_repo: str = ""
    organizations: tuple[str, ...] = ()

    @classmethod
    def from_extras(cls, extras: dict[str, object]) -> Hints:
        def words(key: str) -> tuple[str, ...]:
            value = extras.get(key)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return cls(
            ai_summary=str(extras.get("ai_summary") or ""),
            ai_keywords=words("ai_keywords"),
            github_repo=str(extras.get("github_repo") or ""),
            organizations=words("organizations"),
        )


@dataclass(frozen=True)
class Page:
    """What the paper's HTML full text gave: ``found`` is ``arxiv``, ``ar5iv`` or empty."""

    found: str = ""
    affiliations: tuple[str, ...] = ()
    text: str = ""
    unavailable: bool = False
    """The HTML could not be fetched now (timeout, 5xx): not cached, tried again next time."""


@dataclass(frozen=True)
class PaperFacts:
    """Everything a draft is made from."""

    arxiv_id: str
    title: str
    abstract: str
    version: int | None = None
    authors: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    """From arXiv's metadata (``arxiv:affiliation``), when the authors filled it in."""
    page: Page = field(default_factory=Page)
    hints: Hints = field(default_factory=Hints)


@dataclass(frozen=True)
class Draft:
    """A card as the bot would write it; ``sources`` says where each part came from and
    ``notes`` (catalog keys, ``draft.note.*``) what could not be done."""

    arxiv_id: str
    title: str
    summary: str
    purpose: str
    results: str
    method: str
    model_name: str
    affiliations: tuple[str, ...]
    sources: dict[str, str]
    translated_title: str = ""
    translated_abstract: str = ""
    notes: tuple[str, ...] = ()
    more_affiliations: int = 0

    def parts(
        self, separator: str = ", ", more: Callable[[int], str] = "+{}".format
    ) -> dict[str, str]:
        """The card's parts as text (what a card stores), empty ones left out; ``more`` says
        how many institutions were left out (``+12 more``)."""
        shown = separator.join(self.affiliations)
        if self.more_affiliations:
            shown = f"{shown} {more(self.more_affiliations)}"
        values = {
            "summary": self.summary,
            "purpose": self.purpose,
            "results": self.results,
            "method": self.method,
            "model_name": self.model_name,
            "affiliations": shown,
            "translated_title": self.translated_title,
            "translated_abstract": self.translated_abstract,
        }
        return {key: value for key, value in values.items() if value}

    def as_json(self) -> dict[str, object]:
        """The keys of ``yomikai draft --json``."""
        return {
            "arxiv_id": self.arxiv_id,
            "title": self.title,
            "translated_title": self.translated_title,
            "summary": self.summary,
            "translated_abstract": self.translated_abstract,
            "purpose": self.purpose,
            "results": self.results,
            "method": self.method,
            "model_name": self.model_name,
            "affiliations": list(self.affiliations),
            "more_affiliations": self.more_affiliations,
            "sources": dict(self.sources),
            "notes": list(self.notes),
        }
