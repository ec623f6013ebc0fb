"""How fast Discord vote clicks are answered when fifty people click at once, with one replica
and with two.

Runs the real Discord adapter (discord.py) and core on a SQLite file against the fake Discord of
the tests, all on 127.0.0.1. Every click goes through the gateway websocket; with two replicas
Discord hands it to both sessions, and the one that claims it in the database first answers. A
click's time runs from sending it to the fake's receiving the answer (the interaction callback
that carries "your vote counts"). Reported as ratios against a lone click on one replica, measured
in this same run (these machines are noisy, so absolute times only set the scale).

    .venv/bin/python -m benchmarks.discord_clicks
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from discord.http import Route

from adapters.discord.adapter import DiscordAdapter
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
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


async def run(replicas: int, fake: FakeDiscord, arxiv: ArxivSource, folder: Path) -> list[float]:
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
    for adapter in reversed(adapters):  # each gives back the REST base it found at start
        await adapter.responder.settle()
        await adapter.stop()
    db.dispose()
    return [statistics.median(lone), max(burst)]


async def main() -> None:
    fake = FakeDiscord()
    await fake.start()
    saved = Route.BASE
    with tempfile.TemporaryDirectory() as folder, serve_fake_arxiv() as arxiv_fake:
        arxiv = ArxivSource(arxiv_fake.url, delay_seconds=0)
        one = await run(1, fake, arxiv, Path(folder))
        two = await run(2, fake, arxiv, Path(folder))
        await arxiv.aclose()
    Route.BASE = saved
    await fake.close()

    base = one[0]
    rows = [
        ("one replica, lone click (median of 20)", one[0]),
        (f"one replica, {BURST} clicks at once, slowest", one[1]),
        ("two replicas, lone click (median of 20)", two[0]),
        (f"two replicas, {BURST} clicks at once, slowest", two[1]),
    ]
    for label, took in rows:
        print(
            f"{label:<44} {took * 1000:7.1f} ms  ({took / base:.1f}× a lone click on one replica;"
            f" {took / DISCORD_DEADLINE:.0%} of Discord's 3 s)"
        )
    if fake.refused:
        print(f"Discord refused {len(fake.refused)} calls (e.g. an interaction answered twice)")


if __name__ == "__main__":
    asyncio.run(main())
