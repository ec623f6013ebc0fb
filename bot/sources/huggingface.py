"""Trending papers from Hugging Face's daily papers, over the last week."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, timedelta
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
    text,
    timestamp,
)

DEFAULT_HF_API_URL = "https://huggingface.co/api"

logger = logging.getLogger(__name__)


class HuggingFaceSource:
    """``GET /daily_papers?date=…&sort=trending`` for today and the ``days - 1`` days before.

    A paper's score is the highest ``paper.upvotes`` seen for it, not a sum: ``upvotes`` is the
    paper's running total, so a paper listed on two days would otherwise count twice. Papers
    come best first (ties: the more recent day, then Hugging Face's trending order). Hugging Face
    has no category filter, so ``categories`` is not used.
    """

    name = "huggingface"

    def __init__(
        self,
        base_url: str = DEFAULT_HF_API_URL,
        *,
        days: int = 7,
        **options: Unpack[ClientOptions],
    ) -> None:
        if days < 1:
            raise ValueError("days must be at least 1")
        self._days = days
        self._http = JsonClient(base_url, **options)

    async def trending(self, today: date, categories: Sequence[str]) -> list[TrendingPaper]:
        """Raises SourceUnavailable only when every day failed; days that fail are skipped."""
        days = [today - timedelta(days=n) for n in range(self._days)]
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._day(day)) for day in days]
        best: dict[str, TrendingPaper] = {}
        failed: list[str] = []
        for day, task in zip(days, tasks, strict=True):
            outcome = task.result()
            if isinstance(outcome, SourceUnavailable):
                failed.append(f"{day.isoformat()}: {outcome}")
                continue
            for paper in outcome:
                seen = best.get(paper.arxiv_id)
                if seen is None or paper.score > seen.score:
                    best[paper.arxiv_id] = paper
        if len(failed) == len(days):
            raise SourceUnavailable(_summary(failed))
        if failed:
            skipped = "; ".join(failed)
            logger.info("Hugging Face: skipped %d of %d days (%s)", len(failed), len(days), skipped)
        return sorted(best.values(), key=lambda paper: -paper.score)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _day(self, day: date) -> list[TrendingPaper] | SourceUnavailable:
        params = {"date": day.isoformat(), "sort": "trending"}
        try:
            items = await self._http.get_json("/daily_papers", params)
        except SourceUnavailable as exc:
            return exc
        if not isinstance(items, list):
            return SourceUnavailable(f"answered a JSON {type(items).__name__}, not a list")
        papers = []
        for item in items:
            paper = _paper(item)
            if paper is None:
                logger.debug("Hugging Face %s: skipped an item without an arXiv id", day)
            else:
                papers.append(paper)
        return papers


def _summary(failed: list[str]) -> str:
    """Why every day failed, compact when they all failed the same way."""
    reasons = {reason.split(": ", 1)[1] for reason in failed}
    if len(reasons) == 1:
        return f"{reasons.pop()} on all {len(failed)} days"
    return f"all {len(failed)} days failed ({'; '.join(failed)})"


def _paper(item: Any) -> TrendingPaper | None:
    """One daily-papers item; None when it names no valid arXiv id."""
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        return None
    paper: dict[str, Any] = item["paper"]
    arxiv_id = canonical_id(paper.get("id"))
    if arxiv_id is None:
        return None

    def field(key: str) -> Any:
        # githubRepo, ai_summary, ai_keywords sit under "paper" in daily papers; the top level is
        # only a fallback (huggingface_hub's PaperInfo reads only the top level and misses them).
        value = paper.get(key)
        return item.get(key) if value is None else value

    title = text(field("title"))
    upvotes = integer(paper.get("upvotes"))
    metadata = None
    if title:
        metadata = PaperMetadata(
            arxiv_id=arxiv_id,
            title=title,
            authors=names(paper.get("authors")),
            abstract=abstract(field("summary")),
            published=timestamp(field("publishedAt")),
        )
    organizations = [paper.get("organization"), item.get("organization")]
    return TrendingPaper(
        arxiv_id=arxiv_id,
        score=float(upvotes or 0),
        source=HuggingFaceSource.name,
        metadata=metadata,
        upvotes=upvotes,
        num_comments=integer(item.get("numComments")),
        github_repo=text(field("githubRepo")) or None,
        ai_summary=text(field("ai_summary")) or None,
        ai_keywords=names(field("ai_keywords")),
        organizations=names([org for org in organizations if org is not None]),
    )
