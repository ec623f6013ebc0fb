"""Trending papers: the record every trending source returns, and the chain that picks one.

The sources live in ``huggingface.py``, ``paperswithcode.py`` and (for the arXiv fallback) here;
this module also holds what they share: a small JSON-over-HTTP client with bounded retries and
the defensive field readers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypedDict, Unpack

import httpx

from bot.cleaning import clean
from bot.paper_ids import PaperIdError, parse_paper_id
from bot.sources import PaperMetadata, SourceUnavailable
from bot.sources.arxiv_source import ArxivSource

USER_AGENT = "yomikai/0.1 (research group paper-reading bot)"

logger = logging.getLogger(__name__)

# Abstracts come hard-wrapped; a blank line or a line indented by 2+ spaces starts a paragraph.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\n[ \t]{2,}")


@dataclass(frozen=True)
class TrendingPaper:
    """One paper a trending source recommends, with whatever that source told about it."""

    arxiv_id: str
    """Canonical id (validated with parse_paper_id), no version."""
    score: float
    """The source's trending measure; only comparable within one source's list."""
    source: str
    """"huggingface" | "paperswithcode" | "arxiv"."""
    metadata: PaperMetadata | None
    """Set when the source carried a title; None when it only gave an id."""
    upvotes: int | None = None
    num_comments: int | None = None
    github_repo: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()


class TrendingSource(Protocol):
    name: str

    async def trending(self, today: date, categories: Sequence[str]) -> list[TrendingPaper]:
        """Trending papers, best first; raises SourceUnavailable when it cannot answer."""
        ...


class TrendingChain:
    """Asks the sources in order and keeps the first non-empty answer."""

    def __init__(self, sources: Sequence[TrendingSource]) -> None:
        self._sources = list(sources)

    async def trending(
        self, today: date, categories: Sequence[str]
    ) -> tuple[str, list[TrendingPaper]]:
        """``(source name, papers)`` from the first source with papers.

        If some source answered but every answer was empty, that is ``(last such source, [])``;
        if none answered at all, SourceUnavailable.
        """
        answered: str | None = None
        reasons: list[str] = []
        for index, source in enumerate(self._sources):
            rest = self._sources[index + 1 :]
            then = f"trying {rest[0].name}" if rest else "no sources left"
            try:
                papers = await source.trending(today, categories)
            except SourceUnavailable as exc:
                logger.warning("Trending source %s failed: %s; %s", source.name, exc, then)
                reasons.append(f"{source.name}: {exc}")
                continue
            if papers:
                logger.info("Trending: %d papers from %s", len(papers), source.name)
                return source.name, papers
            logger.info("Trending source %s returned no papers; %s", source.name, then)
            answered = source.name
        if answered is not None:
            return answered, []
        raise SourceUnavailable("no trending source answered: " + "; ".join(reasons))

    async def aclose(self) -> None:
        for source in self._sources:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


class ArxivListingSource:
    """The newest arXiv submissions in the group's categories, as a last resort."""

    name = "arxiv"

    def __init__(self, arxiv: ArxivSource, max_results: int = 50) -> None:
        self._arxiv = arxiv  # not owned: aclose() leaves it open
        self._max_results = max_results

    async def trending(self, today: date, categories: Sequence[str]) -> list[TrendingPaper]:
        listing = await self._arxiv.listing(categories, self._max_results)
        kept = [(arxiv_id, p) for p in listing if (arxiv_id := canonical_id(p.arxiv_id))]
        # Newest first; the newest gets the highest score.
        return [
            TrendingPaper(arxiv_id, float(len(kept) - rank), self.name, paper)
            for rank, (arxiv_id, paper) in enumerate(kept)
        ]

    async def aclose(self) -> None:
        pass


class ClientOptions(TypedDict, total=False):
    """How patient a ``JsonClient`` is; sources built on one take these as keywords."""

    timeout: float | httpx.Timeout
    """Per request (default 10 s)."""
    retries: int
    """Further attempts after a failure worth retrying (default 2)."""
    backoff: float
    """Seconds before the first retry, doubling after (default 0.5)."""
    max_retry_after: float
    """The longest Retry-After waited out (default 5 s); longer fails at once."""


class JsonClient:
    """GET JSON from one API with bounded retries; every failure becomes SourceUnavailable."""

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        timeout = options.get("timeout", 10.0)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._retries = options.get("retries", 2)
        self._backoff = options.get("backoff", 0.5)
        self._max_retry_after = options.get("max_retry_after", 5.0)

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The decoded body; retries connect errors, timeouts, 5xx and 429 (``retries`` times).

        A Retry-After longer than ``max_retry_after`` is not waited out: the call fails.
        """
        for attempt in range(self._retries + 1):
            delay = self._backoff * 2**attempt
            try:
                response = await self._client.get(path, params=params)
            except httpx.TransportError as exc:
                reason = _transport_reason(exc)
            else:
                status = response.status_code
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise SourceUnavailable("answered with a body that is not JSON") from exc
                reason = f"answered HTTP {status}"
                if status != 429 and status < 500:
                    raise SourceUnavailable(reason)
                retry_after = _retry_after(response)
                if retry_after is not None:
                    if retry_after > self._max_retry_after:
                        raise SourceUnavailable(f"{reason} (retry after {retry_after:g} s)")
                    delay = retry_after
            if attempt == self._retries:
                raise SourceUnavailable(reason)
            logger.debug("GET %s %s: %s; retrying in %.2f s", path, params or "", reason, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self._client.aclose()


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not be reached"
    return f"request failed ({type(exc).__name__})"


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (only the delta-seconds form; an HTTP date is ignored)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


# Defensive readers for JSON fields: anything of the wrong type reads as absent.


def canonical_id(value: Any) -> str | None:
    """The canonical arXiv id a field names (``2204.06974v2`` → ``2204.06974``), else None."""
    if not isinstance(value, str) or len(value.split()) != 1:
        return None
    try:
        return parse_paper_id(value).canonical
    except PaperIdError:
        return None


def text(value: Any) -> str:
    """A string field with whitespace collapsed; "" for anything else."""
    return " ".join(clean(value).split()) if isinstance(value, str) else ""


def abstract(value: Any) -> str:
    """A hard-wrapped abstract as paragraphs joined by a blank line."""
    if not isinstance(value, str):
        return ""
    paragraphs = (text(p) for p in _PARAGRAPH_BREAK.split(value.strip()))
    return "\n\n".join(p for p in paragraphs if p)


def number(value: Any) -> float | None:
    """A finite JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def integer(value: Any) -> int | None:
    found = number(value)
    return None if found is None else int(found)


def names(value: Any) -> tuple[str, ...]:
    """Names from a list of strings or of objects with ``name`` (``fullname`` preferred)."""
    if not isinstance(value, list):
        return ()
    found = []
    for item in value:
        if isinstance(item, dict):
            item = text(item.get("fullname")) or text(item.get("name"))
        found.append(text(item))
    return tuple(dict.fromkeys(name for name in found if name))


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 date or time (``2022-04-14T14:55:47.000Z``) in UTC, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
