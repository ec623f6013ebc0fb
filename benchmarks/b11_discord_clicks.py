"""Beyond the issue's list: Discord vote clicks answered when fifty people click at once, with
one replica and with two.

Runs the real Discord adapter (discord.py) and core on a SQLite file against the fake Discord of
the tests, all on 127.0.0.1. Every click goes through the gateway websocket; with two replicas
Discord hands it to both sessions, and the one that claims it in the database first answers. A
click's time runs from sending it to the fake's receiving the answer (the interaction callback
that carries "your vote counts"). Reported as ratios against a lone click on one replica, measured
in this same run. Every click must be answered once and its vote stored once.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from discord.http import Route
from sqlmodel import func, select

from adapters.discord.adapter import DiscordAdapter
from benchmarks.report import Figure, Result, check, ms
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Vote
from tests.discord_adapter.chat import DiscordChat, custom_ids
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.chat import ManualClock
from tests.fakes.discord_api import GUILD_ID, FakeDiscord

BURST = 50
LONE_CLICKS = 20
DISCORD_DEADLINE = 3.0


async def answered_after(fake: FakeDiscord, payloads: list[dict[str, Any]]) -> list[float]:
    """Send ``payloads`` through the gateway at once; seconds until each was answered."""
    started = time.monotonic()
    await asyncio.gather(*(fake.dispatch("INTERACTION_CREATE", p) for p in payloads))
    await fake.wait_until(lambda: all(fake.callbacks(p) for p in payloads), 30)
    tokens = {p["token"] for p in payloads}
    answers = [c for c in fake.calls if c.path.endswith("/callback")]
    return [c.at - started for c in answers if c.path.split("/")[3] in tokens]


async def replicas_run(
    replicas: int, fake: FakeDiscord, arxiv: ArxivSource, folder: Path
) -> list[float]:
    """Lone clicks then a burst, on ``replicas`` adapters sharing one database: the timings."""
    db = Database(f"sqlite:///{folder / f'bench-{replicas}.db'}")
    upgrade(db.engine)
    adapters = []
    for _ in range(replicas):
        core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), ManualClock())
        adapter = DiscordAdapter(
            core, "fake-bot-token", guild_id=GUILD_ID, api_url=fake.url, ready_timeout=0.01
        )
        await adapter.start()
        core.connect(adapter)  # as the composition root does: posts go out through it
        adapters.append(adapter)
    chat = DiscordChat(adapters[0], fake)
    await chat.run("ada", "yomikai-admin setup")
    await chat.run("ada", "nominate", paper="2204.06974")
    (ballot,) = [m for m in await chat.run("ada", "yomikai-admin open") if custom_ids(m)]
    button = custom_ids(ballot)[0]

    lone = []
    for n in range(LONE_CLICKS):
        lone += await answered_after(fake, [fake.click(ballot, button, user=f"solo{n}")])
        await asyncio.sleep(0.05)
    crowd = [fake.click(ballot, button, user=f"crowd{n}") for n in range(BURST)]
    burst = await answered_after(fake, crowd)
    check(len(burst) == BURST, f"{len(burst)} of {BURST} clicks answered ({replicas} replicas)")
    for adapter in reversed(adapters):  # each gives back the REST base it found at start
        await adapter.responder.settle()
        await adapter.stop()
    with db.session(read_only=True) as session:
        stored = session.exec(select(func.count()).select_from(Vote)).one()
    check(stored == LONE_CLICKS + BURST, f"{stored} votes stored for {LONE_CLICKS + BURST} clicks")
    db.dispose()
    return [statistics.median(lone), max(burst)]


async def run() -> Result:
    fake = FakeDiscord()
    await fake.start()
    saved = Route.BASE
    with tempfile.TemporaryDirectory() as folder, serve_fake_arxiv() as arxiv_fake:
        arxiv = ArxivSource(arxiv_fake.url, delay_seconds=0)
        one = await replicas_run(1, fake, arxiv, Path(folder))
        two = await replicas_run(2, fake, arxiv, Path(folder))
        await arxiv.aclose()
    Route.BASE = saved
    await fake.close()
    check(not fake.refused, f"Discord refused {len(fake.refused)} calls (answered twice?)")

    base = one[0]
    result = Result(11, "Discord: 50 vote clicks at once, one replica and two")
    deadline = f"≤ {DISCORD_DEADLINE:.0f} s"
    result.add(Figure("one replica, lone click (median)", ms(base), runs=LONE_CLICKS))
    for name, (lone, slowest) in (("one replica", one), ("two replicas", two)):
        if name != "one replica":
            result.add(Figure(f"{name}, lone click (median)", ms(lone), ms(base), lone / base))
        result.add(
            Figure(
                f"{name}, {BURST} at once, slowest answer",
                ms(slowest),
                ms(base),
                slowest / base,
                target=deadline,
                runs=BURST,
                met=slowest <= DISCORD_DEADLINE,
            )
        )
    return result
