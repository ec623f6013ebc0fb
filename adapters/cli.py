"""The ``yomikai`` command line: the composition root that reads settings and wires everything.

It is the only module that knows the core, the storage and every adapter at once. What only one
command needs (the console chat, the demo's sites, decks, backups, the Slack manifest) is imported
by that command, so a long-running ``yomikai run`` on Slack or Discord does not keep it in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO, cast

import aiohttp
import discord
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, select

from adapters.discord import DiscordAdapter
from adapters.discord import build as build_discord
from adapters.slack import SlackAdapter, SlackStartError
from adapters.slack import build as build_slack
from bot.clock import SystemClock
from bot.config import Settings, describe_errors
from bot.context import Services
from bot.core import Yomikai
from bot.drafting.draft import Draft, Hints
from bot.drafting.drafter import Drafter
from bot.drafting.pages import PaperPages
from bot.errors import UserError
from bot.group_setup import GroupDefaults
from bot.i18n import LOCALES, t
from bot.paper_ids import PaperIdError, parse_paper_id
from bot.papers import PaperCatalog
from bot.scheduler import Scheduler
from bot.sources.arxiv_source import ArxivSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.paperswithcode import PapersWithCodeSource
from bot.sources.politeness import Budget, SharedBudget
from bot.sources.trending import ArxivListingSource, TrendingChain
from bot.unit import DatabaseUnavailable, Unit, reason
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Paper, PoolEntry
from storage.queries import NoSuchGroup, find_group

log = logging.getLogger("yomikai")


@contextlib.asynccontextmanager
async def built_core(settings: Settings) -> AsyncIterator[Yomikai]:
    """The core with its database and paper sources, closed again on the way out."""
    db = Database(settings.database_url)
    try:
        upgrade(db.engine)  # under a lock: replicas starting together migrate once
    except (OperationalError, InterfaceError) as error:
        db.dispose()
        raise DatabaseUnavailable(reason(error)) from None
    # arXiv's API and its HTML pages share one budget for the whole installation.
    arxiv = ArxivSource(
        settings.arxiv_api_url, budget=SharedBudget(db, "arxiv", spacing=settings.arxiv_spacing)
    )
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
        public_url=settings.public_url,
    )
    core = Yomikai(db, services, SystemClock(), timedelta(seconds=settings.send_lease))
    drafter = build_drafter(settings, core.unit, arxiv.budget)
    core.services = replace(services, drafter=drafter)
    try:
        yield core
    finally:
        await drafter.aclose()
        await trending.aclose()
        await arxiv.aclose()
        db.dispose()


def build_drafter(settings: Settings, unit: Unit, budget: Budget) -> Drafter:
    """Offline drafts from the HTML author block; a model's too when YOMIKAI_LLM_* is set."""
    pages = PaperPages(unit, budget, settings.arxiv_html_url, settings.ar5iv_url)
    model = None
    if settings.llm_base_url and settings.llm_model:
        from bot.drafting.model import ModelClient

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        model = ModelClient(unit, settings.llm_base_url, settings.llm_model, key)
    return Drafter(pages, model)


async def run(settings: Settings, console: Console, log_file: str | None = None) -> None:
    """Every configured adapter and the scheduler on this one event loop.

    With no chat token, the console chat runs until its input ends; otherwise the bot serves
    Slack and/or Discord until it is stopped (Ctrl-C or SIGTERM).
    """
    async with built_core(settings) as core:
        chats: list[SlackAdapter | DiscordAdapter] = []
        if settings.slack_enabled:
            chats.append(build_slack(settings, core))
        elif settings.slack_bot_token is not None:
            raise StartError("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not")
        if settings.discord_enabled:
            chats.append(build_discord(settings, core))
        scheduler = Scheduler(core)
        try:
            for chat in chats:
                await chat.start()
                core.connect(chat)
            if not chats:
                from adapters.console.chat import ConsoleChat

                console_chat = ConsoleChat(core, console, log_file=log_file)
                core.connect(console_chat)
                await core.start()
                await scheduler.start()
                await console_chat.run()
                return
            await core.start()
            await scheduler.start()
            names = " and ".join(chat.platform.capitalize() for chat in chats)
            console.print(f"Yomikai is running on {names}. Ctrl-C stops it.", markup=False)
            await _until_stopped()
        finally:
            await scheduler.stop()
            for chat in reversed(chats):
                await chat.stop()
            await core.stop()


async def run_demo(settings: Settings, console: Console, log_file: str | None) -> None:
    """``yomikai run --demo``: the console chat on a throwaway database, every paper site
    played in this process by the bundled catalog (``adapters.demo``), nothing sent out."""
    from adapters.demo import demo_settings, demo_sites, load_catalog

    for name in ("NO_PROXY", "no_proxy"):  # (a proxy setting must not send 127.0.0.1 out)
        os.environ[name] = ",".join(filter(None, (os.environ.get(name), "127.0.0.1", "localhost")))
    with tempfile.TemporaryDirectory(prefix="yomikai-demo-") as folder:
        async with demo_sites() as sites:
            demo = demo_settings(settings, sites, f"sqlite:///{Path(folder) / 'demo.db'}")
            count = len(load_catalog().papers)
            console.print(t(settings.locale, "console.demo", count=count), markup=False)
            await run(demo, console, log_file)


def _log_to(verbose: bool, log_file: str | None) -> str | None:
    """Logs go to standard error; for the console chat to ``log_file`` instead (a terminal
    shows standard error amid the chat), and to both with ``-v``. The file's path, if any."""
    form = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO if verbose or log_file else logging.WARNING)
    if log_file:
        try:
            handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError:
            log_file = None  # (an unwritable folder: standard error it is, as before)
        else:
            handler.setFormatter(form)
            root.addHandler(handler)
    if verbose or not log_file:
        shown = logging.StreamHandler(sys.stderr)
        shown.setFormatter(form)
        shown.setLevel(logging.INFO if verbose else logging.WARNING)
        root.addHandler(shown)
    return str(Path(log_file).resolve()) if log_file else None


def _shown(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


class StartError(RuntimeError):
    """The bot cannot start as configured; the message says what to fix."""


async def _until_stopped() -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopped.set)
    await stopped.wait()


def database_command(options: argparse.Namespace, settings: Settings, console: Console) -> int:
    """``yomikai db upgrade | export [FILE] | import FILE``."""
    from storage import backup
    from storage.migrate import current

    db = Database(settings.database_url)
    err = Console(stderr=True)
    try:
        if options.db_command == "upgrade":
            upgrade(db.engine)
            err.print(f"The database is at revision {current(db.engine)} (the newest).")
        elif options.db_command == "export":
            state = backup.export_state(db)
            with _open(options.file, "w") as out:
                backup.dump(state, out)
            rows = sum(len(table) for table in state["tables"].values())
            err.print(f"Exported {rows} rows.", markup=False)
        else:
            upgrade(db.engine)
            with _open(options.file, "r") as src:
                counts = backup.import_state(db, backup.load(src))
            err.print(f"Imported {sum(counts.values())} rows.", markup=False)
    except (ValueError, OSError) as error:
        err.print(f"yomikai db {options.db_command}: {error}", style="bold red", markup=False)
        return 2
    finally:
        db.dispose()
    return 0


@contextlib.contextmanager
def _open(name: str, mode: str) -> Iterator[TextIO]:
    if name == "-":
        yield sys.stdout if mode == "w" else sys.stdin
        return
    with open(name, mode, encoding="utf-8") as handle:
        yield cast(TextIO, handle)


async def draft_paper(settings: Settings, paper: str, language: str) -> Draft:
    """``yomikai draft``: one paper's draft as a new card would get it (nothing is stored
    but the paper's metadata, its HTML author block and the model's answer, as caches)."""
    arxiv_id = parse_paper_id(paper).canonical
    async with built_core(settings) as core:
        now = core.clock.now()
        await core.services.catalog.ensure([arxiv_id], now)

        def look(session: Session) -> tuple[Paper | None, Hints]:
            found = session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).first()
            entry = (
                found
                and session.exec(select(PoolEntry).where(PoolEntry.paper_id == found.id)).first()
            )
            return found, Hints.from_extras(entry.extras) if entry else Hints()

        found, hints = await core.unit.in_thread(look, read_only=True)
        drafter = core.services.drafter
        if found is None or drafter is None:
            raise DraftError(f"arXiv does not know {arxiv_id}")
        return await drafter.draft(await drafter.facts(found, hints), language)


class DraftError(RuntimeError):
    """``yomikai draft`` could not draft the paper; the message says why."""


def draft_command(options: argparse.Namespace, settings: Settings, console: Console) -> int:
    from adapters.console.render import render_draft

    err = Console(stderr=True)
    try:
        draft = asyncio.run(draft_paper(settings, options.paper, options.language))
    except PaperIdError as error:
        err.print(f"yomikai draft: {error}", style="bold red", markup=False)
        return 2
    except UserError as error:  # arXiv could not be reached
        err.print(
            f"yomikai draft: {t(options.language, error.key)}", style="bold red", markup=False
        )
        return 2
    except (DraftError, DatabaseUnavailable) as error:
        err.print(f"yomikai draft: {error}", style="bold red", markup=False)
        return 2
    if options.json:
        sys.stdout.write(json.dumps(draft.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        console.print(render_draft(draft, options.language))
    return 0


def calendar_command(options: argparse.Namespace, settings: Settings) -> int:
    """``yomikai calendar``: the group's feed (every past and planned session) as iCalendar
    on standard output, what ``/calendar/<token>.ics`` serves."""
    from bot.meeting.feed import group_feed

    err = Console(stderr=True)
    url = options.database_url or settings.database_url
    db = Database(url)
    try:
        with db.session(read_only=True) as session:
            group = find_group(session, options.channel)
            data = group_feed(session, group, SystemClock().now())
    except NoSuchGroup as error:
        err.print(f"yomikai calendar: {error}", style="bold red", markup=False)
        return 2
    except (OperationalError, InterfaceError) as error:
        err.print(
            f"yomikai calendar: the database at {_shown(url)} does not answer ({reason(error)})",
            style="bold red",
            markup=False,
        )
        return 2
    finally:
        db.dispose()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


FORMATS = ("md", "html", "pdf")


def export_command(options: argparse.Namespace, settings: Settings) -> int:
    """``yomikai export``: a session's deck as Marp Markdown, HTML or PDF, to a file."""
    from bot.deck.html import deck_html
    from bot.deck.marp import deck_markdown
    from bot.deck.pdf import NoChromium, PrintFailed, deck_pdf
    from bot.deck.slides import NoSuchSession, find_session, session_deck

    err = Console(stderr=True)
    db = Database(settings.database_url)
    try:
        day = date.fromisoformat(options.session) if options.session else None
        with db.session(read_only=True) as session:
            group, reading = find_session(session, options.channel, day)
            deck = session_deck(session, group, reading)
        html = deck_html(deck)
        if options.format == "md":
            data = deck_markdown(deck).encode("utf-8")
        elif options.format == "html":
            data = html.encode("utf-8")
        else:
            data = asyncio.run(deck_pdf(html, settings.chromium))
    except ValueError as error:
        err.print(f"yomikai export: --session {options.session}: {error}", markup=False)
        return 2
    except (NoSuchGroup, NoSuchSession, NoChromium, PrintFailed, OSError) as error:
        err.print(f"yomikai export: {error}", style="bold red", markup=False)
        return 2
    finally:
        db.dispose()
    if options.output == "-":
        sys.stdout.buffer.write(data)
        return 0
    path = Path(options.output or deck.filename(options.format))
    path.write_bytes(data)
    err.print(f"Wrote {path} ({len(deck.slides) + 2} slides).", markup=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yomikai", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    commands = parser.add_subparsers(dest="command")
    running = commands.add_parser(
        "run", help="start the bot (the console chat when no token is set)"
    )
    running.add_argument(
        "--demo",
        action="store_true",
        help="try it offline: the console on a throwaway database with bundled papers",
    )
    db_parser = commands.add_parser("db", help="the database: migrations and backups")
    db_commands = db_parser.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the schema migrations (run does it too)")
    export = db_commands.add_parser("export", help="write the whole state as JSON")
    export.add_argument("file", nargs="?", default="-", help="where to (default: stdout)")
    restore = db_commands.add_parser("import", help="restore a JSON backup into an empty database")
    restore.add_argument("file", help="the backup (- for stdin)")
    manifest = commands.add_parser(
        "slack-manifest", help="print the Slack app manifest (made from the command registry)"
    )
    manifest.add_argument("--url", help="your /slack/events address (default: a placeholder)")
    manifest.add_argument("--http", action="store_true", help="HTTP mode, not Socket Mode")
    exporting = commands.add_parser("export", help="a session as a slide deck (md, html, pdf)")
    exporting.add_argument("--session", metavar="YYYY-MM-DD", help="default: the latest session")
    exporting.add_argument("--format", choices=FORMATS, default="html")
    exporting.add_argument("-o", "--output", metavar="FILE", help="default: yomikai-DATE.EXT")
    exporting.add_argument("--channel", help="the group's channel id (when there are several)")
    calendar = commands.add_parser(
        "calendar", help="print a group's calendar (every session) as iCalendar on stdout"
    )
    calendar.add_argument("--channel", help="the group's channel id (when there are several)")
    calendar.add_argument(
        "--database-url", metavar="URL", help="default: YOMIKAI_DATABASE_URL (sqlite:///…)"
    )
    drafting = commands.add_parser(
        "draft", help="print the card draft of one paper (to try a model, or measure drafts)"
    )
    drafting.add_argument("paper", help="an arXiv id or URL")
    drafting.add_argument(
        "--language", choices=LOCALES, default=None, help="default: YOMIKAI_LOCALE"
    )
    drafting.add_argument("--json", action="store_true", help="print the draft as JSON")
    options = parser.parse_args(argv)
    console = Console()
    try:
        settings = Settings()
    except ValidationError as error:
        _log_to(options.verbose, None)
        console.print("Yomikai cannot start: a setting is wrong.", style="bold red", markup=False)
        for line in describe_errors(error):
            console.print(f"  {line}", markup=False)
        console.print("Fix it in the environment or in .env (see the README).", markup=False)
        return 2
    demo = options.command == "run" and options.demo
    chatting = demo or (options.command in (None, "run") and settings.console_chat)
    log_file = _log_to(options.verbose, settings.log_file if chatting else None)
    if options.command == "db":
        return database_command(options, settings, console)
    if options.command == "export":
        return export_command(options, settings)
    if options.command == "calendar":
        return calendar_command(options, settings)
    if options.command == "draft":
        options.language = options.language or settings.locale
        return draft_command(options, settings, console)
    if options.command == "slack-manifest":
        from adapters.slack.manifest import PLACEHOLDER_URL, render

        url = PLACEHOLDER_URL if options.url is None else options.url
        sys.stdout.write(render(url, socket_mode=not options.http))
        return 0
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                run_demo(settings, console, log_file) if demo else run(settings, console, log_file)
            )
    except (StartError, SlackStartError) as error:
        console.print(f"Yomikai cannot start: {error}", style="bold red", markup=False)
        return 2
    except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
        console.print(
            f"Yomikai cannot start: Discord did not answer ({error}); check DISCORD_API_URL"
            " and the network",
            style="bold red",
            markup=False,
        )
        return 2
    except DatabaseUnavailable as error:
        console.print(
            f"Yomikai cannot start: the database at {_shown(settings.database_url)} does not"
            f" answer ({error}); check YOMIKAI_DATABASE_URL and that the server runs",
            style="bold red",
            markup=False,
        )
        return 2
    except discord.LoginFailure as error:
        console.print(
            f"Yomikai cannot start: Discord refused DISCORD_BOT_TOKEN ({error})",
            style="bold red",
            markup=False,
        )
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
