"""Everything the bot sends to Slack: posts from the outbox, replies to commands, ballots, DMs.

Posts (ballots, agendas, cards, announcements, reminders) come from ``bot.delivery``: each
carries its outbox key in the message ``metadata`` (event type ``yomikai_post``), so that a
post that may already have gone out (a crash between sending and recording) is first looked for
in the channel's recent history and never posted twice. Private answers go only to the invoker:
through the request's ``response_url`` when Slack gave one (retried on 5xx), else
``chat.postEphemeral``. A ``CardForm`` opens the card modal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.blocks import escape
from adapters.slack.inbound import PLATFORM
from adapters.slack.modal import card_view
from adapters.slack.render import render, thread_text
from bot.core import Yomikai
from bot.delivery.errors import DeliveryError, MessageGone
from bot.delivery.outbox import BallotPost
from bot.delivery.redraw import BallotRedraw
from bot.i18n import t
from bot.messages import CardForm, DeckFile, Message, Notice, Reply, ThreadOpening
from bot.ports import Thread

log = logging.getLogger(__name__)

NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}
"""Slack's answers when the bot may not post in a channel (private channel, not invited)."""
GONE = {"message_not_found", "cant_update_message", "channel_not_found"}
"""Slack's answers when the message to edit is no longer there."""
METADATA_EVENT = "yomikai_post"
HISTORY_LIMIT = 200
RESPOND_ATTEMPTS = 3
RESPOND_PAUSE = 0.5


@dataclass(frozen=True)
class Origin:
    """Where a reply goes: the channel and member of the request, and how to reach them."""

    channel_id: str
    user_id: str
    response_url: str | None = None
    """Where the request's private answers are posted (slash commands, clicks)."""
    trigger_id: str | None = None


def delivery_error(error: Exception) -> DeliveryError:
    """A Slack failure in the delivery worker's words: try again, or give up (and why)."""
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "")
        status = error.response.status_code
        if status == 429 or code == "ratelimited":
            wait = error.response.headers.get("Retry-After") or error.response.headers.get(
                "retry-after"
            )
            retry_after = float(wait) if wait and str(wait).isdigit() else None
            return DeliveryError("rate limited", transient=True, retry_after=retry_after)
        if status >= 500 or code in {"internal_error", "fatal_error", "service_unavailable"}:
            return DeliveryError(f"Slack answered {status} {code}", transient=True)
        if code in NOT_A_MEMBER:
            return DeliveryError(code, transient=False, notice_key="slack.not_in_channel")
        return DeliveryError(code or f"HTTP {status}", transient=False)
    return DeliveryError(f"{type(error).__name__}: {error}", transient=True)


class SlackOutbound:
    """Implements ``bot.ports.ChatAdapter`` for Slack, and delivers the core's replies."""

    platform = PLATFORM

    def __init__(
        self, client: AsyncWebClient, core: Yomikai, redraw_interval: float, locale: str
    ) -> None:
        self.client = client
        self.core = core
        self.locale = locale
        """The configured default language, for sentences in replies without a locale."""
        self.redrawer = BallotRedraw(
            core.unit, PLATFORM, self._draw_ballot, interval=redraw_interval
        )

    # --- ChatAdapter ---------------------------------------------------------------------------

    async def post(
        self, channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        try:
            if key and since is not None:
                found = await self._find(channel_id, key, since)
                if found is not None:
                    log.info("Slack: post %s was already out (%s); not posted again", key, found)
                    return found
            if isinstance(message, DeckFile):
                return await self._upload(channel_id, message)
            drawn = render(message)
            metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
            response = await self.client.chat_postMessage(
                channel=channel_id,
                text=drawn.text,
                blocks=drawn.blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata if key else None,
            )
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error) from error
        return str(response["ts"])

    async def _upload(self, channel_id: str, deck: DeckFile) -> str:
        """A deck as a file in the channel (``files_upload_v2``; the ``files:write`` scope)."""
        response = await self.client.files_upload_v2(
            channel=channel_id,
            file=deck.data,
            filename=deck.filename,
            title=deck.filename,
            initial_comment=escape(deck.intro),
        )
        uploaded = response.get("files") or [response.get("file") or {}]
        return str(uploaded[0].get("id") or "")

    async def _find(self, channel_id: str, key: str, since: datetime) -> str | None:
        """The ``ts`` of the bot's post carrying ``key`` since ``since``, if it is there."""
        try:
            history = await self.client.conversations_history(
                channel=channel_id,
                oldest=f"{since.timestamp() - 5:.6f}",
                include_all_metadata=True,
                limit=HISTORY_LIMIT,
            )
        except SlackApiError as error:  # no history scope: post; a double beats a loss
            log.warning(
                "Slack: cannot read %s's history (%s)", channel_id, error.response.get("error")
            )
            return None
        for item in history.get("messages") or []:
            metadata = item.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return str(item.get("ts"))
        return None

    async def open_thread(
        self,
        channel_id: str,
        parent_ref: str,
        opening: ThreadOpening,
        *,
        key: str = "",
        since: datetime | None = None,
    ) -> Thread:
        """A Slack thread is the replies under a message: the opening is the first reply,
        carrying its key like a post, looked for among the replies before it is sent again."""
        try:
            found = await self._find_reply(channel_id, parent_ref, key) if since else None
            if found is None:
                await self.client.chat_postMessage(
                    channel=channel_id,
                    thread_ts=parent_ref,
                    text=thread_text(opening),
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
                )
        except Exception as error:
            raise delivery_error(error) from error
        return Thread(parent_ref, await self._permalink(channel_id, parent_ref))

    async def _find_reply(self, channel_id: str, parent_ref: str, key: str) -> str | None:
        try:
            replies = await self.client.conversations_replies(
                channel=channel_id, ts=parent_ref, include_all_metadata=True, limit=HISTORY_LIMIT
            )
        except SlackApiError as error:  # no history scope: post; a double beats a loss
            log.warning("Slack: cannot read a thread's replies (%s)", error.response.get("error"))
            return None
        for item in replies.get("messages") or []:
            payload = (item.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return str(item.get("ts"))
        return None

    async def _permalink(self, channel_id: str, ts: str) -> str:
        """The card's link, which opens its thread; empty when Slack would not say."""
        try:
            answer = await self.client.chat_getPermalink(channel=channel_id, message_ts=ts)
        except SlackApiError as error:
            log.info("Slack: no permalink for %s (%s)", ts, error.response.get("error"))
            return ""
        return str(answer.get("permalink") or "")

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        drawn = render(message)
        try:
            await self.client.chat_update(
                channel=channel_id, ts=ref, text=drawn.text, blocks=drawn.blocks
            )
        except SlackApiError as error:
            if error.response.get("error") in GONE:
                raise MessageGone(str(error.response.get("error"))) from error
            raise delivery_error(error) from error

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
        try:
            opened = await self.client.conversations_open(users=user_id)
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise delivery_error(error) from error
            log.warning("Slack refused a DM to %s: %s", user_id, error.response.get("error"))
            return None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise delivery_error(error) from error
        return await self.post(str(opened["channel"]["id"]), message, key=key, since=since)

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        """A replayed request's answer, through the ``response_url`` it came with."""
        url = address.get("response_url")
        if not url:
            return
        await self.deliver(reply, Origin(address.get("channel_id", ""), "", url))

    # --- replies ------------------------------------------------------------------------------

    async def deliver(self, reply: Reply, origin: Origin) -> None:
        """The invoker's own answers; what the reply announced went out through the outbox."""
        for message in reply.private:
            if isinstance(message, CardForm):
                await self._open_form(origin, message)
            else:
                await self.tell(origin, message)
        if reply.round_changed is not None:
            self.redrawer.request(reply.round_changed)

    async def tell(self, origin: Origin, message: Message) -> None:
        """Only the invoker sees it (ephemeral)."""
        drawn = render(message)
        try:
            if origin.response_url is not None:
                await self._respond(
                    origin.response_url,
                    text=drawn.text,
                    blocks=drawn.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
            else:
                await self.client.chat_postEphemeral(
                    channel=origin.channel_id,
                    user=origin.user_id,
                    text=drawn.text,
                    blocks=drawn.blocks,
                )
        except Exception:  # a reply that cannot be sent must not take the others with it
            log.exception("could not answer %s in %s", origin.user_id, origin.channel_id)

    async def _respond(self, url: str, **kwargs: Any) -> None:
        """Post to the ``response_url``, again after a 5xx or a dropped connection.

        Through the Web API client's HTTP session (kept open while the adapter runs): a new
        connection per answer cost more than the rest of a vote click.
        """
        webhook = AsyncWebhookClient(url, session=self.client.session)
        for attempt in range(1, RESPOND_ATTEMPTS + 1):
            try:
                sent = await webhook.send(**kwargs)
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                if attempt == RESPOND_ATTEMPTS:
                    raise
                log.info("response_url failed (%s); trying again", type(error).__name__)
            else:
                status = getattr(sent, "status_code", 200)
                if status < 500 and status != 429:
                    if status != 200:  # e.g. the response_url expired: retrying cannot help
                        log.warning("response_url refused an answer (HTTP %s)", status)
                    return
                if attempt == RESPOND_ATTEMPTS:
                    log.warning("response_url kept failing (HTTP %s)", status)
                    return
            await asyncio.sleep(RESPOND_PAUSE * 2 ** (attempt - 1))

    async def _open_form(self, origin: Origin, form: CardForm) -> None:
        if origin.trigger_id:
            try:
                view = card_view(form, origin.channel_id)
                await self.client.views_open(trigger_id=origin.trigger_id, view=view)
                return
            except SlackApiError as error:  # e.g. the trigger expired (3 s)
                log.warning("could not open the card form: %s", error.response.get("error"))
        loc = form.locale
        await self.tell(origin, Notice(t(loc, "slack.form_failed", number=form.number)))

    async def redraw_private(self, round_id: int, origin: Origin) -> None:
        """Replace the invoker's own copy of a ballot (through the click's response_url)."""
        post = await self.core.ballot_post(round_id)
        if post is None or origin.response_url is None:
            return
        drawn = render(post.ballot)
        try:
            await self._respond(
                origin.response_url,
                text=drawn.text,
                blocks=drawn.blocks,
                response_type="ephemeral",
                replace_original=True,
            )
        except Exception:
            log.exception("could not redraw %s's ballot", origin.user_id)

    async def _draw_ballot(self, post: BallotPost) -> None:
        await self.update(post.channel_id, post.ref, post.ballot)
