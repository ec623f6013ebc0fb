"""The paper sites of the demo: one HTTP server on 127.0.0.1, in this process, on this loop.

It answers the bot's own clients in the wire formats of the real sites:

| path | stands for | asked by |
|---|---|---|
| ``/api/query`` | export.arxiv.org/api/query (Atom) | ``ArxivSource`` (a worker thread) |
| ``/arxiv/html/<id>[vN]`` | arxiv.org/html (LaTeXML) | ``PaperPages`` |
| ``/ar5iv/html/<id>`` | ar5iv.labs.arxiv.org/html | ``PaperPages``, after arXiv's |
| ``/hf/api/daily_papers`` | huggingface.co/api/daily_papers (JSON) | ``HuggingFaceSource`` |
| anything else, Papers with Code included | | 404 |

Papers with Code answers 404 at once: the trending chain takes Hugging Face's answer first, and
if that were empty it would go on to the arXiv listing without waiting.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from adapters.demo import atom
from adapters.demo.latexml import missing_page, paper_page
from adapters.demo.papers import Catalog, load_catalog
from bot.config import Settings

log = logging.getLogger(__name__)


class DemoSites:
    """``await start()``, put the ``*_url`` properties into the settings, ``await stop()``."""

    def __init__(self, catalog: Catalog | None = None, host: str = "127.0.0.1") -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        self.host = host
        self.served: deque[str] = deque(maxlen=1000)
        """The requests answered lately, as ``"<status> <path?query>"`` (for tests and logs)."""
        self._runner: web.AppRunner | None = None
        self._base = ""

    @property
    def base_url(self) -> str:
        if not self._base:
            raise RuntimeError("the demo sites are not started")
        return self._base

    @property
    def arxiv_api_url(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def arxiv_html_url(self) -> str:
        return f"{self.base_url}/arxiv/html"

    @property
    def ar5iv_url(self) -> str:
        return f"{self.base_url}/ar5iv/html"

    @property
    def hf_api_url(self) -> str:
        return f"{self.base_url}/hf/api"

    @property
    def pwc_api_url(self) -> str:
        return f"{self.base_url}/pwc/api/v1"

    async def start(self) -> None:
        """Listen on a free port of ``host``."""
        if self._runner is not None:
            return
        app = web.Application(middlewares=[self._record])
        app.add_routes(
            [
                web.get("/api/query", self._arxiv_api),
                web.get("/arxiv/html/{paper:.+}", self._html),
                web.get("/ar5iv/html/{paper:.+}", self._html),
                web.get("/hf/api/daily_papers", self._daily_papers),
            ]
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._runner, self._base = runner, f"http://{host}:{port}"
        log.info("demo paper sites at %s (%d papers)", self._base, len(self.catalog))

    async def stop(self) -> None:
        runner, self._runner, self._base = self._runner, None, ""
        if runner is not None:
            await runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            self._note(error.status, request)
            raise
        self._note(response.status, request)
        return response

    def _note(self, status: int, request: web.Request) -> None:
        self.served.append(f"{status} {request.path_qs}")
        log.debug("demo sites: %d %s", status, request.path_qs)

    async def _arxiv_api(self, request: web.Request) -> web.Response:
        feed = atom.query_feed(self.catalog, request.query)
        return web.Response(text=feed, content_type="application/atom+xml", charset="utf-8")

    async def _html(self, request: web.Request) -> web.Response:
        name = request.match_info["paper"]
        paper = self.catalog.find(name)
        if paper is None:
            return web.Response(
                status=404, text=missing_page(name), content_type="text/html", charset="utf-8"
            )
        return web.Response(text=paper_page(paper), content_type="text/html", charset="utf-8")

    async def _daily_papers(self, request: web.Request) -> web.Response:
        """Every catalog paper on every day asked for, most upvoted first (``sort=trending``)."""
        return web.json_response(list(self.catalog.daily_papers))


@contextlib.asynccontextmanager
async def demo_sites(catalog: Catalog | None = None) -> AsyncIterator[DemoSites]:
    """The demo sites, started, for the length of the block."""
    sites = DemoSites(catalog)
    await sites.start()
    try:
        yield sites
    finally:
        await sites.stop()


DEMO_SPACING = 0.2
"""The demo's arXiv is this process: no need to wait arXiv's three seconds between requests."""


def demo_settings(settings: Settings, sites: DemoSites, database_url: str) -> Settings:
    """``settings`` for the demo: every paper site is ``sites``, the database is
    ``database_url``, and no chat token, chat API or language model is left, so the console chat
    runs and no request leaves the machine (whatever YOMIKAI_*_URL said)."""
    return settings.model_copy(
        update={
            "database_url": database_url,
            "arxiv_api_url": sites.arxiv_api_url,
            "arxiv_html_url": sites.arxiv_html_url,
            "ar5iv_url": sites.ar5iv_url,
            "hf_api_url": sites.hf_api_url,
            "pwc_api_url": sites.pwc_api_url,
            "slack_bot_token": None,
            "slack_signing_secret": None,
            "slack_app_token": None,
            "slack_api_url": None,
            "discord_bot_token": None,
            "discord_guild_id": None,
            "discord_api_url": None,
            "llm_base_url": None,
            "llm_model": None,
            "llm_api_key": None,
            "arxiv_spacing": DEMO_SPACING,
        }
    )
