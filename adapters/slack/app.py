"""The Slack adapter: a bolt ``AsyncApp`` served over HTTP (aiohttp) or Socket Mode.

Every request is first recorded in the inbox (``Yomikai.receive``: its key and what it asks, in
one short transaction), then acknowledged; the core's work and the answers to Slack run
afterwards in tasks this adapter keeps (so ``stop`` can finish them), and a process that dies
before finishing leaves the request to be run again. A request Slack sends again (a retry, same
``trigger_id``/``event_id``) is acknowledged and dropped, so it never doubles a vote or a post;
one that cannot be recorded in time is acknowledged with "that did not go through, try again".
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import inbound
from adapters.slack.modal import CALLBACK_ID, CardTarget, field_errors, submitted_fields
from adapters.slack.outbound import Origin, SlackOutbound
from bot.config import Settings
from bot.context import Invocation
from bot.core import Received, Yomikai
from bot.i18n import t
from bot.meeting import feed
from bot.meeting.ics import MIME_TYPE
from bot.messages import Message, Notice, Problem, Reply, ThreadOpening
from bot.ports import Thread
from bot.unit import DatabaseUnavailable

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"
RATE_LIMIT_RETRIES = 3
"""429s waited out (each after its ``Retry-After``) before a call fails."""
CONNECTION_RETRIES = 2
CONNECTION_BACKOFF = 0.5
"""Seconds before the first retry after a connection error (then doubled; plus up to 100%)."""
STOP_TIMEOUT = 10.0


class _ProportionalJitter(Jitter):
    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


class _ClientTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that our
    configured client (which carries that same token) takes precedence: true, and no news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


class _NoRefusedBodies(logging.Filter):
    """bolt logs a request it refused (a bad signature) with its whole body, response_url and
    user included; what was refused is enough, the body stays out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "body:" in message:
            record.msg, record.args = (
                message.split("(signature:")[0].strip() + " (body not logged)",
                (),
            )
        return True


class SlackStartError(RuntimeError):
    """Slack cannot be started with these settings (the message names the variable)."""


class SlackAdapter:
    """Slack for the core: slash commands, vote buttons, the card modal, posts and DMs."""

    platform = inbound.PLATFORM

    def __init__(
        self,
        settings: Settings,
        core: Yomikai,
        *,
        host: str = "0.0.0.0",
        port: int | None = None,
        redraw_interval: float = 1.0,
    ) -> None:
        if settings.slack_bot_token is None or settings.slack_signing_secret is None:
            raise SlackStartError("Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
        self.core = core
        self.host = host
        self.port = settings.http_port if port is None else port
        self.app_token = settings.slack_app_token
        api_url = (settings.slack_api_url or DEFAULT_API_URL).rstrip("/") + "/"
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=api_url,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(
                    max_retry_count=CONNECTION_RETRIES,
                    interval_calculator=BackoffRetryIntervalCalculator(
                        CONNECTION_BACKOFF, _ProportionalJitter()
                    ),
                ),
                AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ],
        )
        bolt_log = logging.getLogger("yomikai.slack.bolt")
        bolt_log.addFilter(_ClientTokenNotice())
        refusals = logging.getLogger("slack_bolt.RequestVerification")
        if not any(isinstance(f, _NoRefusedBodies) for f in refusals.filters):
            refusals.addFilter(_NoRefusedBodies())
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            logger=bolt_log,
        )
        self.outbound = SlackOutbound(self.client, core, redraw_interval, settings.locale)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._register()

    # --- ChatAdapter (for the scheduler) -------------------------------------------------------

    async def post(
        self, channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        return await self.outbound.post(channel_id, message, key=key, since=since)

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        await self.outbound.update(channel_id, ref, message)

    async def dm(
        self,
        user_id: str,
        message: Message,
        *,
        fallback_channel_id: str | None = None,
        key: str = "",
        since: datetime | None = None,
    ) -> str | None:
        """Slack lets a bot open a DM with any member, so the fallback channel is not needed."""
        return await self.outbound.dm(user_id, message, key=key, since=since)

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        await self.outbound.answer(address, reply)

    async def open_thread(
        self,
        channel_id: str,
        parent_ref: str,
        opening: ThreadOpening,
        *,
        key: str = "",
        since: datetime | None = None,
    ) -> Thread:
        return await self.outbound.open_thread(
            channel_id, parent_ref, opening, key=key, since=since
        )

    # --- running ------------------------------------------------------------------------------

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    async def start(self) -> None:
        """Check the token, then serve; returns once Slack can reach the bot."""
        if self.client.session is None:  # one HTTP session (kept-alive connections) for all calls
            self.client.session = aiohttp.ClientSession()
        await self._check("SLACK_BOT_TOKEN", self.client.auth_test())
        if self.app_token is not None:
            app_token = self.app_token.get_secret_value()
            opened = await self._check(
                "SLACK_APP_TOKEN", self.client.apps_connections_open(app_token=app_token)
            )
            self._socket = AsyncSocketModeHandler(self.app, app_token, logger=log)
            self._socket.client.wss_uri = str(opened["url"])  # checked above; used at once
            await self._socket.connect_async()
            log.info("Slack: connected in Socket Mode")
            return
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._handle_http)
        # The calendar: a group's feed, and one session's file (made in bot.meeting.feed).
        web_app.router.add_get(feed.FEED_PATH, self._calendar_feed)
        web_app.router.add_get(feed.EVENT_PATH, self._calendar_event)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=STOP_TIMEOUT)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = None
            raise SlackStartError(
                f"cannot serve Slack on port {self.port} (YOMIKAI_HTTP_PORT): {error}"
            ) from None
        self.port = self._runner.addresses[0][1]
        log.info("Slack: listening on %s:%s%s", self.host, self.port, EVENTS_PATH)

    async def stop(self) -> None:
        """Stop taking requests, then let the work already acknowledged finish (bounded)."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        try:
            await asyncio.wait_for(self.settle(), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("Slack: stopped with work unfinished")
            for task in self._tasks:
                task.cancel()
            self.outbound.redrawer.cancel()
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    async def settle(self) -> None:
        """Wait until every acknowledged request is answered and every ballot redrawn."""
        while self._tasks or self.outbound.redrawer.pending:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.outbound.redrawer.drain()

    async def _check(self, name: str, call: Awaitable[Any]) -> Any:
        """A call at start: a refusal names the variable (Socket Mode would retry forever)."""
        try:
            return await call
        except SlackApiError as error:
            code = error.response.get("error")
            raise SlackStartError(f"{name} was refused by Slack ({code})") from None
        except (aiohttp.ClientError, OSError) as error:
            raise SlackStartError(
                f"cannot reach the Slack Web API at {self.client.base_url} ({error});"
                " check SLACK_API_URL and the network"
            ) from None

    async def _handle_http(self, request: web.Request) -> web.Response:
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):  # bolt would fail on int() with a 500
            return web.Response(status=401, text="invalid request")
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _calendar_feed(self, request: web.Request) -> web.Response:
        return await self._calendar(feed.feed_file(self.core.unit, request.match_info["token"]))

    async def _calendar_event(self, request: web.Request) -> web.Response:
        return await self._calendar(feed.event_file(self.core.unit, request.match_info["uid"]))

    @staticmethod
    async def _calendar(made: Awaitable[bytes | None]) -> web.Response:
        """An ``.ics`` for calendar apps; 404 for an address that names nothing (which tokens
        exist is never said), 503 while the database does not answer."""
        try:
            data = await made
        except DatabaseUnavailable:
            return web.Response(status=503, text="the calendar is unavailable; try again later")
        if data is None:
            return web.Response(status=404, text="no such calendar")
        return web.Response(
            body=data,
            headers={
                "Content-Type": MIME_TYPE,
                "Content-Disposition": 'inline; filename="yomikai.ics"',
                "Cache-Control": "private, max-age=300",
            },
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, pending: Awaitable[Reply] | Reply, origin: Origin) -> None:
        try:
            reply = pending if isinstance(pending, Reply) else await pending
            await self.outbound.deliver(reply, origin)
        except Exception:
            log.exception("Slack: answering %s failed", origin.user_id)

    # --- bolt listeners -------------------------------------------------------------------------

    def _register(self) -> None:
        for name in inbound.SLASH_COMMANDS:
            self.app.command(name)(self._on_command)
        self.app.action(inbound.VOTE_ACTION)(self._on_vote)
        self.app.view(CALLBACK_ID)(self._on_card)
        self.app.middleware(self._keep_thread_message)
        self.app.event("message")(self._on_message)

    async def _keep_thread_message(
        self, body: dict[str, Any], next: Callable[[], Awaitable[Any]]
    ) -> Any:
        """A member's reply in a thread is kept before Slack hears "ok" (a middleware: bolt
        acknowledges events before their listener runs). It is never a command. When the
        database cannot take it, Slack gets an error and sends the event again."""
        said = inbound.thread_reply(body)
        if said is not None:
            await self.core.thread_message(said)
        return await next()

    async def _on_message(self) -> None:
        """Messages in channels are not commands: kept above when they answer a card."""

    async def _record(
        self, body: dict[str, Any], op: str, inv: Invocation, **args: Any
    ) -> tuple[Received, Invocation]:
        """Write the request down before it is acknowledged (a repeat is recognised here)."""
        found = inbound.request_key(body)
        key = f"slack:{found}" if found else f"slack:unkeyed:{uuid.uuid4().hex}"
        address = {"channel_id": inv.channel_id}
        if body.get("response_url"):
            address["response_url"] = str(body["response_url"])
        received = await self.core.receive(key, op, inv, address, **args)
        if received is Received.REPEAT:
            log.info("Slack: dropped a repeated request (%s)", found)
        return received, replace(inv, request_key=key)

    def _not_recorded(self) -> str:
        return t(self.outbound.locale, "error.not_recorded")

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        received, inv = await self._record(command, "command", inbound.command_invocation(command))
        if received is Received.UNAVAILABLE:
            await ack(text=self._not_recorded(), response_type="ephemeral")
            return
        await ack()
        if received is Received.NEW:
            url = command.get("response_url")
            origin = Origin(inv.channel_id, inv.user_id, url, command.get("trigger_id"))
            self._spawn(self._answer(self.core.handle(inv), origin))

    async def _on_vote(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        target = inbound.vote_target(str(action.get("action_id", "")))
        if target is None:
            await ack()
            return
        inv = inbound.interaction_invocation(body, "vote", inbound.action_channel(body))
        round_id, candidate_id = target
        received, inv = await self._record(
            body, "vote", inv, round_id=round_id, candidate_id=candidate_id
        )
        await ack()
        origin = Origin(inv.channel_id, inv.user_id, body.get("response_url"))
        if received is Received.UNAVAILABLE:
            self._spawn(self.outbound.tell(origin, Notice(self._not_recorded())))
        elif received is Received.NEW:
            ephemeral = inbound.from_ephemeral(body)
            self._spawn(self._vote(inv, target, origin, ephemeral))

    async def _vote(
        self, inv: Invocation, target: tuple[int, int], origin: Origin, ephemeral: bool
    ) -> None:
        await self._answer(self.core.click_vote(inv, *target), origin)
        if ephemeral:  # a private /candidates list: redraw it too, only the clicker sees it
            await self.outbound.redraw_private(target[0], origin)

    async def _on_card(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        # Saved before the ack: a mistake must be shown in the still-open modal.
        target = CardTarget.load(str(view.get("private_metadata", "")))
        if target is None:
            await ack()
            return
        inv = inbound.interaction_invocation(body, "card", target.channel_id)
        fields = submitted_fields(view)
        received, inv = await self._record(body, "card", inv, number=target.number, fields=fields)
        if received is Received.REPEAT:
            await ack()
            return
        if received is Received.UNAVAILABLE:
            refusal = Problem(self._not_recorded())
            await ack(response_action="errors", errors=field_errors(refusal, fields))
            return
        reply = await self.core.submit_card(inv, target.number, fields)
        problem = next((m for m in reply.private if isinstance(m, Problem)), None)
        if problem is not None:
            await ack(response_action="errors", errors=field_errors(problem, fields))
            return
        await ack()
        origin = Origin(inv.channel_id, inv.user_id)
        self._spawn(self._answer(reply, origin))
