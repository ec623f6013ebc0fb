"""How fast Slack clicks are acknowledged when fifty people vote at once.

Runs the real Slack adapter (HTTP mode) and core on a SQLite file against the fake Slack of the
tests, all on 127.0.0.1, and reports ratios measured in this one run (these machines are noisy,
so absolute times only set the scale): the burst's slowest acknowledgement against a lone
click's, and how long until every vote of the burst is stored.

    .venv/bin/python -m benchmarks.clicks
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from aiohttp import web
from sqlmodel import select

from adapters.slack import build
from bot.context import Services
from bot.core import Yomikai
from bot.group_setup import GroupDefaults
from bot.papers import PaperCatalog
from bot.sources.arxiv_source import ArxivSource
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Vote
from tests.fakes.arxiv_server import serve_fake_arxiv
from tests.fakes.chat import ManualClock
from tests.fakes.slack_api import FakeSlack
from tests.slack.slack_side import SlackSide, buttons, slack_settings

BURST = 50
LONE_CLICKS = 20
SLACK_DEADLINE = 3.0


async def main() -> None:
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    with tempfile.TemporaryDirectory() as folder, serve_fake_arxiv() as arxiv_fake:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(db.engine)
        arxiv = ArxivSource(arxiv_fake.url, delay_seconds=0)
        core = Yomikai(db, Services(PaperCatalog(db, arxiv), GroupDefaults()), ManualClock())
        adapter = build(slack_settings(fake), core, host="127.0.0.1", port=0)
        await adapter.start()
        core.connect(adapter)  # as the composition root does: posts go out through it
        async with aiohttp.ClientSession() as http:
            side = SlackSide(SimpleNamespace(socket_mode=False, port=adapter.port), fake, http)  # type: ignore[arg-type]
            await side.command("alice", "/yomikai setup")
            await side.command("alice", "/nominate 2204.06974")
            await fake.wait_calls("chat.postMessage", 2)
            await side.command("alice", "/yomikai open")
            ballot = await fake.wait_for(
                lambda: [c for c in fake.to("chat.postMessage") if buttons(c)]
            )
            action, ts = buttons(ballot[0])[0], ballot[0].result["ts"]

            lone = []
            for n in range(LONE_CLICKS):
                _, _, took = await side.click(f"solo{n}", action, ts)
                lone.append(took)
                await asyncio.sleep(0.05)
            started = time.monotonic()
            burst = await asyncio.gather(
                *(side.click(f"crowd{n}", action, ts) for n in range(BURST))
            )
            acks = sorted(took for _, _, took in burst)

            def stored() -> int:
                with db.session() as session:
                    return len(session.exec(select(Vote)).all())

            while stored() < LONE_CLICKS + BURST:
                await asyncio.sleep(0.01)
            all_stored = time.monotonic() - started
        await adapter.stop()
        await arxiv.aclose()
        db.dispose()
    await runner.cleanup()

    lone_median = statistics.median(lone)
    print(f"lone click acknowledged:           median {lone_median * 1000:7.1f} ms")
    print(
        f"{BURST} clicks at once, slowest ack:    {acks[-1] * 1000:7.1f} ms"
        f"  ({acks[-1] / lone_median:.1f}× a lone click;"
        f" {acks[-1] / SLACK_DEADLINE:.0%} of Slack's 3 s)"
    )
    print(
        f"{BURST} clicks at once, all votes stored: {all_stored * 1000:7.1f} ms"
        f"  ({all_stored / lone_median:.1f}× a lone click)"
    )


if __name__ == "__main__":
    asyncio.run(main())
