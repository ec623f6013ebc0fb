"""The ``yomikai`` command line: the composition root that reads settings and wires everything.

It is the only module that knows the core, the storage and every adapter at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence

from pydantic import ValidationError
from rich.console import Console

from adapters.console.chat import ConsoleChat
from bot.clock import SystemClock
from bot.config import Settings, describe_errors
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.scheduler import Scheduler
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.paperswithcode import PapersWithCodeSource
from bot.sources.trending import ArxivListingSource, TrendingChain
from storage.db import Database, create_schema

log = logging.getLogger("yomikai")


@contextlib.asynccontextmanager
async def built_core(settings: Settings) -> AsyncIterator[Yomikai]:
    """The core with its database and paper sources, closed again on the way out."""
    db = Database(settings.database_url)
    create_schema(db.engine)
    arxiv = ArxivSource(settings.arxiv_api_url)
    trending = TrendingChain(
        [
            HuggingFaceSource(settings.hf_api_url),
            PapersWithCodeSource(settings.pwc_api_url),
            ArxivListingSource(arxiv),
        ]
    )
    services = Services(
        catalog=PaperCatalog(db, arxiv),
        defaults=GroupDefaults(timezone=settings.timezone, locale=settings.locale),
        trending=trending,
    )
    try:
        yield Yomikai(db, services, SystemClock())
    finally:
        await trending.aclose()
        await arxiv.aclose()
        db.dispose()


async def run(settings: Settings, console: Console) -> None:
    """Every configured adapter and the scheduler on this one event loop."""
    async with built_core(settings) as core:
        for name, token in (
            ("Slack", settings.slack_bot_token),
            ("Discord", settings.discord_bot_token),
        ):
            if token is not None:
                console.print(
                    f"{name} is configured, but this build has no {name} adapter yet;"
                    " starting the console chat instead.",
                    style="yellow",
                )
        chat = ConsoleChat(core, console)
        core.connect(chat)
        scheduler = Scheduler(core)
        await scheduler.start()
        try:
            await chat.run()
        finally:
            await scheduler.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yomikai", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start the bot (the console chat when no token is set)")
    options = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if options.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    console = Console()
    try:
        settings = Settings()
    except ValidationError as error:
        console.print("Yomikai cannot start: a setting is wrong.", style="bold red", markup=False)
        for line in describe_errors(error):
            console.print(f"  {line}", markup=False)
        console.print("Fix it in the environment or in .env (see the README).", markup=False)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings, console))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
