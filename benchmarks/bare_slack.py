"""The floor of benchmark 1: a bare ``slack_bolt`` ``AsyncApp`` on aiohttp that only acks.

Served like Yomikai's Slack adapter serves (aiohttp, ``to_bolt_request``, ``async_dispatch``),
with bolt's signature check and authorization, and nothing else: no inbox, no vote.

    python -m benchmarks.bare_slack PORT SLACK_API_URL
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack.slack_side import SECRET


def bare_app(api_url: str) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-4830127645412-7264519830417-bare", base_url=api_url),
        signing_secret=SECRET,
    )

    @bolt.action(re.compile(".*"))
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


async def serve(port: int, api_url: str) -> None:
    runner = web.AppRunner(bare_app(api_url), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))
