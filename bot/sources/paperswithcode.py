"""Trending papers from a Papers with Code style API (``GET /papers/trending``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any, Unpack

from bot.sources import PaperMetadata, SourceUnavailable
from bot.sources.trending import (
    ClientOptions,
    JsonClient,
    TrendingPaper,
    abstract,
    canonical_id,
    integer,
    names,
    number,
    text,
    timestamp,
)

DEFAULT_PWC_API_URL = "https://paperswithcode.co/api/v1"  # the relaunch DESIGN.md names

logger = logging.getLogger(__name__)


class PapersWithCodeSource:
    """The trending list, best first, as a bare JSON list or ``{"results": [...]}``.

    Score: the items' numeric ``score`` (or ``stars``) field when every kept item has one,
    otherwise rank-based (first = n … last = 1), so one list never mixes two scales. There is
    no category filter, so ``categories`` is not used.
    """

    name = "paperswithcode"

    def __init__(
        self, base_url: str = DEFAULT_PWC_API_URL, **options: Unpack[ClientOptions]
    ) -> None:
        self._http = JsonClient(base_url, **options)

    async def trending(self, today: date, categories: Sequence[str]) -> list[TrendingPaper]:
        body = await self._http.get_json("/papers/trending")
        items = body.get("results") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise SourceUnavailable(f"answered JSON of an unexpected shape ({type(body).__name__})")
        kept: dict[str, tuple[TrendingPaper, float | None]] = {}
        for item in items:
            parsed = _paper(item)
            if parsed is None:
                logger.debug("Papers with Code: skipped an item without an arXiv id")
            elif parsed[0].arxiv_id not in kept:
                kept[parsed[0].arxiv_id] = parsed
        scores = [score for _, score in kept.values()]
        if any(score is None for score in scores):
            scores = [float(len(kept) - rank) for rank in range(len(kept))]
        papers = [paper for paper, _ in kept.values()]
        return [_with_score(paper, score) for paper, score in zip(papers, scores, strict=True)]

    async def aclose(self) -> None:
        await self._http.aclose()


def _with_score(paper: TrendingPaper, score: float | None) -> TrendingPaper:
    return replace(paper, score=score or 0.0)


def _paper(item: Any) -> tuple[TrendingPaper, float | None] | None:
    """One item and its own score if it has one; None when it names no valid arXiv id."""
    if not isinstance(item, dict):
        return None
    arxiv_id = canonical_id(item.get("arxiv_id"))
    if arxiv_id is None:
        return None
    title = text(item.get("title"))
    metadata = None
    if title:
        metadata = PaperMetadata(
            arxiv_id=arxiv_id,
            title=title,
            authors=names(item.get("authors")),
            abstract=abstract(item.get("abstract")),
            published=timestamp(item.get("published")),
        )
    score = number(item.get("score"))
    if score is None:
        score = number(item.get("stars"))
    paper = TrendingPaper(
        arxiv_id=arxiv_id,
        score=0.0,
        source=PapersWithCodeSource.name,
        metadata=metadata,
        github_repo=_best_repository(item.get("repositories")),
        organizations=names(item.get("organizations")),
    )
    return paper, score


def _best_repository(value: Any) -> str | None:
    """The URL of the most-starred repository (the first on a tie)."""
    if not isinstance(value, list):
        return None
    best: tuple[int, str] | None = None
    for repository in value:
        url = text(repository.get("url")) if isinstance(repository, dict) else text(repository)
        stars = integer(repository.get("stars")) if isinstance(repository, dict) else None
        if url and (best is None or (stars or 0) > best[0]):
            best = (stars or 0, url)
    return best[1] if best else None
