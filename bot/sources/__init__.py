"""Where paper metadata comes from: the neutral record every source returns, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PaperMetadata:
    """What Yomikai knows about one arXiv paper, whichever source told it."""

    arxiv_id: str
    """Canonical id without version: ``2204.06974`` or ``hep-th/9901001``."""
    title: str
    authors: tuple[str, ...] = ()
    abstract: str = ""
    version: int | None = None
    affiliations: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    primary_category: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"


class SourceUnavailable(Exception):
    """A source could not be reached, timed out or answered garbage; nothing was learned."""
