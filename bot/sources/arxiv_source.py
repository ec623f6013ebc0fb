"""Paper metadata from the arXiv API, fetched with the ``arxiv`` package off the event loop.

Ids are looked up in batches: an id asked for while a request waits for its politeness turn
goes out with it in one ``id_list`` request, so twenty nominations within a second cost two
requests (one at once, one a turn later), not twenty spaced three seconds apart.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import arxiv
import requests
from lxml import etree

from bot.sources import PaperMetadata, SourceUnavailable
from bot.sources.politeness import POLL, Budget, LocalBudget

DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"

logger = logging.getLogger(__name__)

_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_VERSIONED_ID = re.compile(r"^(?P<id>.+?)v(?P<version>\d+)$")
# arXiv starts each abstract paragraph on a new line indented by two spaces.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\n[ \t]{2,}")


class _MalformedFeed(Exception):
    """arXiv answered 200 with a body that is not a well-formed Atom feed."""


def _check_feed(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: refuse a 200 that is not a well-formed Atom feed.

    arxiv only logs "Malformed feed" and yields nothing (its lxml parser even recovers partial
    entries from a truncated feed), which would look like unknown ids.
    """
    if response.status_code != requests.codes.ok:
        return
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(response.content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise _MalformedFeed(f"not well-formed XML: {exc}") from exc
    if root.tag != _ATOM_FEED:
        raise _MalformedFeed(f"not an Atom feed: <{root.tag}>")


class _PoliteSession(requests.Session):
    """A session with a default timeout whose every request, failed ones included, takes a
    turn of arXiv's politeness budget."""

    def __init__(self, timeout_seconds: float, budget: Budget) -> None:
        super().__init__()
        self._timeout_seconds = timeout_seconds
        self._budget = budget
        self.hooks["response"].append(_check_feed)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout_seconds)
        # arxiv.Client only stamps its delay clock after a request returns, so a timeout,
        # refused connection or malformed feed would let the next request go out at once.
        with self._budget.turn():
            return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


class ArxivSource:
    """The only place Yomikai talks to arXiv; one shared client, one request at a time, the ids
    asked for meanwhile gathered into the next request."""

    def __init__(
        self,
        api_url: str = DEFAULT_ARXIV_API_URL,
        *,
        delay_seconds: float = 3.0,
        timeout_seconds: float = 10.0,
        num_retries: int = 2,
        batch_size: int = 50,
        budget: Budget | None = None,
    ) -> None:
        """``budget``: the installation's shared one (``SharedBudget``); by default this
        process spaces its own requests ``delay_seconds`` apart."""
        self._batch_size = batch_size
        self.budget = budget or LocalBudget(delay_seconds)
        # The budget spaces requests; the client's own delay would only add to it.
        self._client = arxiv.Client(page_size=batch_size, delay_seconds=0, num_retries=num_retries)
        self._client.query_url_format = api_url + "?{}"
        # arxiv 4.x calls self._session.get(url) without a timeout and has no public hook for
        # a session or timeout, so its private session is replaced by one that has both.
        self._session = _PoliteSession(timeout_seconds, self.budget)
        self._client._session = self._session
        self._lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future[PaperMetadata | None]] = {}
        """Ids asked for and not requested yet, in the order asked (None: arXiv has no such id)."""
        self._asked: dict[str, asyncio.Future[PaperMetadata | None]] = {}
        """Ids of the request in flight (asked again meanwhile, they wait for its answer)."""
        self._batcher: asyncio.Task[None] | None = None

    async def fetch(self, arxiv_ids: Sequence[str]) -> dict[str, PaperMetadata]:
        """Metadata for the canonical ids arXiv knows, keyed by canonical id."""
        loop = asyncio.get_running_loop()
        wanted: dict[str, asyncio.Future[PaperMetadata | None]] = {}
        for arxiv_id in dict.fromkeys(arxiv_ids):
            future = self._waiting.get(arxiv_id) or self._asked.get(arxiv_id)
            if future is None:
                future = self._waiting[arxiv_id] = loop.create_future()
            wanted[arxiv_id] = future
        if not wanted:
            return {}
        if self._batcher is None or self._batcher.done() or self._batcher.get_loop() is not loop:
            self._batcher = asyncio.create_task(self._send_batches())
        await asyncio.wait(wanted.values())
        found = {arxiv_id: future.result() for arxiv_id, future in wanted.items()}
        return {arxiv_id: paper for arxiv_id, paper in found.items() if paper is not None}

    async def _send_batches(self) -> None:
        """Request the waiting ids, a batch per politeness turn, until none wait."""
        try:
            while self._waiting:
                async with self._lock:
                    await self._until_free()
                    await self._send_batch()
        except asyncio.CancelledError:
            for future in self._waiting.values():
                future.cancel()
            self._waiting.clear()
            raise

    async def _until_free(self) -> None:
        """Wait for the budget's next turn before choosing a batch, so that it takes every id
        asked for meanwhile (the turn itself is still taken for each HTTP request)."""
        try:
            while (wait := await asyncio.to_thread(self.budget.free_in)) > 0:
                await asyncio.sleep(min(wait, POLL))
        except Exception:  # the budget cannot be read: the request's own turn will say why
            logger.debug("arXiv: could not read the politeness budget", exc_info=True)

    async def _send_batch(self) -> None:
        batch = list(itertools.islice(self._waiting, self._batch_size))
        futures = self._asked = {arxiv_id: self._waiting.pop(arxiv_id) for arxiv_id in batch}
        logger.info("arXiv: requesting %d ids", len(batch))
        try:
            papers = await self._in_thread(arxiv.Search(id_list=batch, max_results=len(batch)))
        except Exception as error:
            for future in futures.values():
                future.set_exception(error)
                future.exception()  # retrieved: a caller that gave up leaves no warning
        else:
            by_id = {paper.arxiv_id: paper for paper in papers}
            for arxiv_id, future in futures.items():
                future.set_result(by_id.get(arxiv_id))
        finally:
            self._asked = {}
            for future in futures.values():
                future.cancel()  # (only those left undone: this task was cancelled)

    async def listing(
        self, categories: Sequence[str], max_results: int = 50
    ) -> list[PaperMetadata]:
        """The newest submissions in any of ``categories``, newest first."""
        if not categories or max_results <= 0:
            return []
        logger.info("arXiv: requesting the %d newest in %s", max_results, " ".join(categories))
        search = arxiv.Search(
            query=" OR ".join(f"cat:{category}" for category in categories),
            max_results=max_results,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        return await self._run(search)

    async def aclose(self) -> None:
        async with self._lock:
            self._session.close()

    async def _run(self, search: arxiv.Search) -> list[PaperMetadata]:
        async with self._lock:
            return await self._in_thread(search)

    async def _in_thread(self, search: arxiv.Search) -> list[PaperMetadata]:
        """The request in a worker thread; the caller holds ``_lock``."""
        task = asyncio.ensure_future(asyncio.to_thread(self._collect, search))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])  # a thread can't be stopped: keep the lock till it ends
            if not task.cancelled():
                task.exception()  # retrieved: nobody is waiting for this outcome any more
            raise

    def _collect(self, search: arxiv.Search) -> list[PaperMetadata]:
        try:
            return [_to_metadata(result) for result in self._client.results(search)]
        except (requests.RequestException, arxiv.ArxivError, _MalformedFeed) as exc:
            reason = _reason(exc)
            logger.warning("arXiv request failed: %s", reason)
            raise SourceUnavailable(reason) from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, arxiv.HTTPError):
        return f"arXiv answered HTTP {exc.status}"
    if isinstance(exc, _MalformedFeed):
        return "arXiv sent a malformed feed"
    if isinstance(exc, requests.Timeout):
        return "arXiv did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "arXiv could not be reached"
    return f"arXiv request failed ({type(exc).__name__})"


def _to_metadata(result: arxiv.Result) -> PaperMetadata:
    short_id = result.get_short_id()
    match = _VERSIONED_ID.match(short_id)
    affiliations = (_oneline(a) for author in result.authors for a in author.affiliation)
    return PaperMetadata(
        arxiv_id=match["id"] if match else short_id,
        title=_oneline(result.title),
        authors=tuple(_oneline(author.name) for author in result.authors),
        abstract=_abstract(result.summary),
        version=int(match["version"]) if match else None,
        affiliations=tuple(dict.fromkeys(a for a in affiliations if a)),
        published=_utc(result.published),
        updated=_utc(result.updated),
        primary_category=result.primary_category or None,
        categories=tuple(result.categories),
    )


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _abstract(summary: str) -> str:
    paragraphs = (_oneline(p) for p in _PARAGRAPH_BREAK.split(summary.strip()))
    return "\n\n".join(p for p in paragraphs if p)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
