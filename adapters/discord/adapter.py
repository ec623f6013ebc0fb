"""The Discord adapter: starts the client beside the others and speaks for the scheduler.

It implements ``bot.ports.ChatAdapter`` (post, update, dm) for unprompted posts and reminders;
interactions are answered by ``Handlers`` through the ``Responder``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal

import discord
from discord.http import Route

from adapters.discord.client import YomikaiClient, dial_gateway
from adapters.discord.delivery import Responder
from adapters.discord.handlers import Handlers
from adapters.discord.inbound import PLATFORM
from adapters.discord.limits import CONTENT, cut, escape
from adapters.discord.render import render
from bot.core import Yomikai
from bot.delivery.errors import DeliveryError, EventsRefused, MessageGone
from bot.delivery.outbox import BallotPost
from bot.delivery.redraw import BallotRedraw
from bot.i18n import DEFAULT_LOCALE, t
from bot.messages import MeetingEvent, Message, Reply, ThreadOpening
from bot.ports import Thread

log = logging.getLogger(__name__)

DISCORD_API = "https://discord.com/api/v10"


NONCE_LENGTH = 25
"""Discord's limit on a message nonce."""
THREAD_NAME = 100
ARCHIVE: Literal[10080] = 10080
"""A card's thread stays open a week after its last message (minutes)."""
THREAD_EXISTS = 160004
"""Discord's code for "A thread has already been created for this message"."""
EVENT_NAME, EVENT_DESCRIPTION, EVENT_LOCATION = 100, 1000, 100
GUILD_ONLY, EXTERNAL, EVENT_CANCELLED = 2, 3, 4


def nonce(key: str) -> str:
    """The nonce of an outbox key: stable, and within Discord's 25 characters."""
    if not key:
        return ""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()[:NONCE_LENGTH]


def _nonce(key: str) -> dict[str, str]:
    """``send``'s keyword for an outbox key (none without one)."""
    return {"nonce": nonce(key)} if key else {}


def _transient(error: discord.HTTPException) -> bool:
    return error.status == 429 or error.status >= 500


def delivery_error(error: Exception) -> DeliveryError:
    """A Discord failure in the delivery worker's words: try again, or give up."""
    if isinstance(error, discord.HTTPException) and not _transient(error):
        return DeliveryError(
            f"Discord refused it: {error.status} {error.text}"[:200], transient=False
        )
    return DeliveryError(f"{type(error).__name__}: {error}"[:200], transient=True)


def api_base(url: str) -> str:
    """``http://proxy:8080`` → ``http://proxy:8080/api/v10``; a URL with a version is kept."""
    url = url.strip().rstrip("/")
    return url if re.search(r"/api/v\d+$", url) else f"{url}/api/v10"


class DiscordAdapter:
    platform = PLATFORM

    def __init__(
        self,
        core: Yomikai,
        token: str,
        *,
        guild_id: int | None = None,
        api_url: str | None = None,
        defer_after: float = 2.0,
        redraw_interval: float = 1.0,
        ready_timeout: float = 2.0,
        message_content: bool = True,
    ) -> None:
        self.core = core
        self.api_url = api_base(api_url) if api_url else None
        self._token = token
        self.redraw = BallotRedraw(core.unit, PLATFORM, self._draw_ballot, interval=redraw_interval)
        self.responder = Responder(core, self.redraw, defer_after=defer_after)
        self.handlers = Handlers(core, self.responder)
        self.client = YomikaiClient(
            self.handlers,
            guild_id=guild_id,
            ready_timeout=ready_timeout,
            message_content=message_content,
        )
        self._guilds: dict[str, str] = {}
        """Channel id → its server's id (for scheduled events), read once per channel."""
        self._connection: asyncio.Task[None] | None = None
        self._saved_base: str | None = None

    async def start(self) -> None:
        """Log in, sync the slash commands, connect to the gateway; return once ready."""
        if self.api_url:
            # Route.BASE is discord.py's one REST base (interaction webhooks use it too).
            self._saved_base, Route.BASE = Route.BASE, self.api_url
        try:
            await self.client.login(self._token)
            if self.api_url:
                dial_gateway(self.client.http, await self.client.read_gateway())
            self._connection = asyncio.create_task(self.client.connect(reconnect=True))
            ready = asyncio.create_task(self.client.wait_until_ready())
            await asyncio.wait({self._connection, ready}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                try:
                    await self._connection  # it ended before ready: raise why
                except discord.PrivilegedIntentsRequired:
                    raise RuntimeError(
                        "Discord refused the Message Content intent: switch it on in the"
                        " Developer Portal (Bot → Privileged Gateway Intents), or set"
                        " DISCORD_MESSAGE_CONTENT=false (questions in threads are then not kept)"
                    ) from None
                raise RuntimeError("the Discord gateway closed before the bot was ready")
        except BaseException:
            await self.stop()
            raise
        log.info("Discord: ready as %s", self.client.user)

    async def stop(self) -> None:
        """Finish the answers and ballot edits under way, then close the connection."""
        await self.responder.settle()
        await self.redraw.drain(hurry=True)
        await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._connection, 5)
        if self._saved_base is not None:
            Route.BASE, self._saved_base = self._saved_base, None

    # --- ChatAdapter ------------------------------------------------------------------------

    async def post(
        self, channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        """A channel message; with ``key``, its nonce (``enforce_nonce``: Discord hands back the
        first message instead of posting a second when the same key is sent again)."""
        channel = self.client.get_partial_messageable(int(channel_id))
        try:
            sent = await channel.send(**(render(message).send_kwargs() | _nonce(key)))
        except Exception as error:
            raise delivery_error(error) from error
        return str(sent.id)

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        channel = self.client.get_partial_messageable(int(channel_id))
        try:
            await channel.get_partial_message(int(ref)).edit(**render(message).edit_kwargs())
        except discord.NotFound as error:
            raise MessageGone(str(error)) from error
        except Exception as error:
            raise delivery_error(error) from error

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        """An interaction's token lasts 15 minutes and is not kept: a request run again after a
        restart shows its effect (the vote on the ballot, the post), not a private answer."""

    async def dm(
        self,
        user_id: str,
        message: Message,
        *,
        fallback_channel_id: str | None = None,
        key: str = "",
        since: datetime | None = None,
    ) -> str | None:
        """A direct message; when the member has closed DMs, a post in the group's channel.

        The channel is ``fallback_channel_id`` or the one the member last used Yomikai in.
        The fallback names the member, and that mention alone may notify them.
        """
        out = render(message)
        try:
            channel = await self.client.create_dm(discord.Object(int(user_id)))
            sent = await channel.send(**(out.send_kwargs() | _nonce(key)))
            return str(sent.id)
        except discord.Forbidden:
            log.info("Discord: %s does not take direct messages", user_id)
        except discord.HTTPException as error:
            if _transient(error):
                raise delivery_error(error) from error
            log.exception("Discord: could not message %s", user_id)
            return None
        except ValueError:
            log.exception("Discord: could not message %s", user_id)
            return None
        channel_id = fallback_channel_id or self.handlers.last_channel.get(user_id)
        if channel_id is None:
            return None
        locale = getattr(message, "locale", DEFAULT_LOCALE)
        note = t(locale, "discord.dm_fallback", mention=f"<@{int(user_id)}>")
        kwargs = out.send_kwargs()
        kwargs["content"] = cut("\n".join(filter(None, [note, out.content])), CONTENT)
        kwargs["allowed_mentions"] = discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False, users=[discord.Object(int(user_id))]
        )
        try:
            fallback = self.client.get_partial_messageable(int(channel_id))
            sent = await fallback.send(**(kwargs | _nonce(f"{key}:fallback" if key else "")))
        except discord.HTTPException:
            log.exception("Discord: could not reach %s in channel %s either", user_id, channel_id)
            return None
        return str(sent.id)

    async def open_thread(
        self,
        channel_id: str,
        parent_ref: str,
        opening: ThreadOpening,
        *,
        key: str = "",
        since: datetime | None = None,
    ) -> Thread:
        """A thread started from the card's message (its id is the message's), and the opening
        in it, naming the presenter: the one mention the bot allows."""
        http = self.client.http
        name = cut(f"{opening.number}. {opening.title}", THREAD_NAME) or str(opening.number)
        try:
            try:
                data: Any = await http.start_thread_with_message(
                    int(channel_id), int(parent_ref), name=name, auto_archive_duration=ARCHIVE
                )
            except discord.HTTPException as error:
                if error.code != THREAD_EXISTS:
                    raise
                data = await http.get_channel(int(parent_ref))  # made by an earlier attempt
            thread_id = str(data["id"])
            presenter = opening.presenter
            who = f"<@{int(presenter.user_id)}>" if presenter else ""
            mentions = discord.AllowedMentions(
                everyone=False,
                roles=False,
                replied_user=False,
                users=[discord.Object(int(presenter.user_id))] if presenter else False,
            )
            content = cut(opening.text(who, escape(opening.title)), CONTENT)
            thread = self.client.get_partial_messageable(int(thread_id))
            said: dict[str, Any] = {"content": content, "allowed_mentions": mentions}
            await thread.send(**(said | _nonce(key)))
        except Exception as error:
            raise delivery_error(error) from error
        guild = data.get("guild_id")
        return Thread(
            thread_id, f"https://discord.com/channels/{guild}/{thread_id}" if guild else ""
        )

    async def sync_event(self, channel_id: str, event: MeetingEvent, ref: str | None) -> str | None:
        """The session as an external Guild Scheduled Event: made once, edited after, cancelled
        with the session."""
        http = self.client.http
        try:
            guild = await self._guild_of(channel_id)
            if guild is None:
                return ref
            if event.cancelled:
                if ref is not None:
                    await http.edit_scheduled_event(guild, int(ref), status=EVENT_CANCELLED)
                return ref
            fields = _event_fields(event)
            if ref is not None:
                try:
                    await http.edit_scheduled_event(guild, int(ref), **fields)
                    return ref
                except discord.NotFound:
                    log.info("Discord: event %s was deleted; making it again", ref)
            made = await http.create_guild_scheduled_event(guild, **fields)
        except discord.Forbidden as error:
            raise EventsRefused(f"Discord refused the event: {error.text}"[:200]) from error
        except Exception as error:
            raise delivery_error(error) from error
        return str(made["id"])

    async def _guild_of(self, channel_id: str) -> str | None:
        if channel_id not in self._guilds:
            data: Any = await self.client.http.get_channel(int(channel_id))
            guild = data.get("guild_id")
            if guild is None:
                return None
            self._guilds[channel_id] = str(guild)
        return self._guilds[channel_id]

    async def _draw_ballot(self, post: BallotPost) -> None:
        await self.update(post.channel_id, post.ref, post.ballot)


def _event_fields(event: MeetingEvent) -> dict[str, Any]:
    """What Discord keeps of a meeting: an external event at the group's location."""
    location = event.location or t(event.locale, "meeting.default_location")
    return {
        "name": cut(event.title, EVENT_NAME),
        "description": cut(event.description, EVENT_DESCRIPTION),
        "scheduled_start_time": event.starts_at.astimezone(UTC).isoformat(),
        "scheduled_end_time": event.ends_at.astimezone(UTC).isoformat(),
        "privacy_level": GUILD_ONLY,
        "entity_type": EXTERNAL,
        "entity_metadata": {"location": cut(location, EVENT_LOCATION)},
    }
