"""A paper's HTML full text: arXiv's own first, ar5iv for older papers, each fetched once.

Both count against arXiv's politeness budget (``bot.sources.politeness``). What a page said is
kept in ``paper_page`` by (paper, version); a page that is not there (404 on both) is kept as
such too, so a second card of the same paper costs no request. A timeout or a server error is
not kept: the next draft tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

import httpx
from sqlmodel import Session, select

from bot.drafting import author_block
from bot.drafting.draft import Page
from bot.sources.politeness import Budget
from bot.sources.trending import USER_AGENT
from bot.unit import Unit
from storage.models import PaperPage
from storage.queries import insert_ignore

DEFAULT_ARXIV_HTML_URL = "https://arxiv.org/html"
DEFAULT_AR5IV_URL = "https://ar5iv.labs.arxiv.org/html"
MAX_BYTES = 30_000_000
"""A page larger than this is not read to its end (the author block is at its start)."""

log = logging.getLogger(__name__)


class _Missing(Exception):
    """This site has no HTML for the paper (404, or a page without a LaTeXML document)."""


class PaperPages:
    def __init__(
        self,
        unit: Unit,
        budget: Budget,
        arxiv_html_url: str = DEFAULT_ARXIV_HTML_URL,
        ar5iv_url: str = DEFAULT_AR5IV_URL,
        *,
        timeout: float = 20.0,
    ) -> None:
        self.unit = unit
        self.budget = budget
        self.sites = (("arxiv", arxiv_html_url.rstrip("/")), ("ar5iv", ar5iv_url.rstrip("/")))
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            # ar5iv answers a paper it does not have with a redirect to arXiv's abstract page.
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html"},
        )
        self._fetching: dict[tuple[str, int], asyncio.Future[Page]] = {}
        self._turns = asyncio.Lock()
        """Cards drafted at once queue here for the budget's turns, one at a time: a shared
        budget is polled (every ``politeness.POLL``), so waiters all polling it lose up to that
        much per turn."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def page(self, arxiv_id: str, version: int | None, authors: Sequence[str]) -> Page:
        """What the paper's HTML says (cached); never raises for a network fault."""
        key = (arxiv_id, version or 0)
        cached = await self.unit.in_thread(lambda s: _cached(s, key), read_only=True)
        if cached is not None:
            return cached
        running = self._fetching.get(key)
        if running is not None:  # two cards of one paper drafted at once: one fetch
            return await asyncio.shield(running)
        future: asyncio.Future[Page] = asyncio.get_running_loop().create_future()
        self._fetching[key] = future
        try:
            page = await self._fetch(arxiv_id, version, authors)
            if not page.unavailable:
                now = self.unit.clock.now()
                await self.unit.in_thread(lambda s: _keep(s, key, page, now))
            future.set_result(page)
            return page
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here: the waiters (if any) see it too
            raise
        finally:
            del self._fetching[key]

    async def _fetch(self, arxiv_id: str, version: int | None, authors: Sequence[str]) -> Page:
        unavailable = False
        for site, base in self.sites:
            suffix = f"v{version}" if version and site == "arxiv" else ""
            url = f"{base}/{arxiv_id}{suffix}"
            try:
                html = await self._get(url)
            except _Missing:
                log.info("%s has no HTML for %s", site, arxiv_id)
                continue
            except (httpx.HTTPError, _Unavailable) as error:
                log.info("could not fetch %s: %s", url, _reason(error))
                unavailable = True
                continue
            found = await asyncio.to_thread(_read, html, authors)
            if found is None:
                log.info("%s: %s is not a LaTeXML document", site, arxiv_id)
                continue
            affiliations, text = found
            return Page(found=site, affiliations=tuple(affiliations), text=text)
        return Page(unavailable=unavailable)

    async def _get(self, url: str) -> bytes:
        async with self._turns, self.budget.aturn(), self._http.stream("GET", url) as response:
            if response.status_code in (404, 410) or response.is_redirect:
                raise _Missing
            if response.status_code == 429 or response.status_code >= 500:
                raise _Unavailable(f"HTTP {response.status_code}")
            if not response.is_success:
                raise _Missing
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    break
            return bytes(body)


class _Unavailable(Exception):
    """The site is there but could not answer now (429, 5xx)."""


def _reason(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(error, httpx.TransportError):
        return "could not be reached"
    return str(error) or type(error).__name__


def _read(html: bytes, authors: Sequence[str]) -> tuple[list[str], str] | None:
    """The author block's institutions and the text; None for a page that is no paper."""
    if b"ltx_document" not in html and b"ltx_page_main" not in html:
        return None
    return author_block.institutions(html, authors), author_block.body_text(html)


def _cached(session: Session, key: tuple[str, int]) -> Page | None:
    row = session.exec(
        select(PaperPage).where(PaperPage.arxiv_id == key[0], PaperPage.version == key[1])
    ).first()
    if row is None:
        return None
    return Page(found=row.found, affiliations=tuple(row.affiliations), text=row.text)


def _keep(session: Session, key: tuple[str, int], page: Page, now: datetime) -> None:
    values = {
        "arxiv_id": key[0],
        "version": key[1],
        "found": page.found,
        "affiliations": list(page.affiliations),
        "text": page.text,
        "fetched_at": now,
    }
    insert_ignore(session, PaperPage, values, ("arxiv_id", "version"))
