"""Everything the bot sends to Slack: replies to commands, ballots redrawn, unprompted posts, DMs.

Public messages go to the channel (``chat.postMessage``); private ones only to the invoker — via
the request's ``response_url`` when Slack gave one (works in any channel, even where the bot is
not a member), else ``chat.postEphemeral``. A ``CardForm`` opens the card modal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbound import PLATFORM
from adapters.slack.modal import card_view
from adapters.slack.render import render
from bot.core import Yomikai
from bot.i18n import t
from bot.messages import CandidateList, CardForm, Message, Notice, Reply
from bot.posts import BallotPost
from bot.redraw import BallotRedraw

log = logging.getLogger(__name__)

NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}
"""Slack's answers when the bot may not post in a channel (private channel, not invited)."""

Respond = Callable[..., Awaitable[Any]]
"""bolt's ``respond``: posts to the request's ``response_url``."""


@dataclass(frozen=True)
class Origin:
    """Where a reply goes: the channel and member of the request, and how to reach them."""

    channel_id: str
    user_id: str
    respond: Respond | None = None
    trigger_id: str | None = None


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
        self.redrawer = BallotRedraw(core, PLATFORM, self._draw_ballot, interval=redraw_interval)

    # --- ChatAdapter ---------------------------------------------------------------------------

    async def post(self, channel_id: str, message: Message) -> str:
        drawn = render(message)
        response = await self.client.chat_postMessage(
            channel=channel_id,
            text=drawn.text,
            blocks=drawn.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        drawn = render(message)
        await self.client.chat_update(
            channel=channel_id, ts=ref, text=drawn.text, blocks=drawn.blocks
        )

    async def dm(self, user_id: str, message: Message) -> str | None:
        try:
            opened = await self.client.conversations_open(users=user_id)
            return await self.post(str(opened["channel"]["id"]), message)
        except SlackApiError as error:
            log.warning("Slack refused a DM to %s: %s", user_id, error.response.get("error"))
            return None

    # --- replies ------------------------------------------------------------------------------

    async def deliver(self, reply: Reply, origin: Origin) -> None:
        """Public messages first (the channel sees the change), then the invoker's own."""
        loc = self._locale(reply)
        for message in reply.public:
            await self._announce(origin, message, loc)
        for message in reply.private:
            if isinstance(message, CardForm):
                await self._open_form(origin, message)
            else:
                await self.tell(origin, message)
        if reply.round_changed is not None:
            self.redrawer.request(reply.round_changed)

    async def _announce(self, origin: Origin, message: Message, loc: str) -> None:
        try:
            ts = await self.post(origin.channel_id, message)
        except SlackApiError as error:
            code = error.response.get("error")
            log.warning("Slack refused a post in %s: %s", origin.channel_id, code)
            if code in NOT_A_MEMBER:
                await self.tell(origin, Notice(t(loc, "slack.not_in_channel")))
            return
        except Exception:  # network trouble that outlasted the retries
            log.exception("could not post in %s", origin.channel_id)
            return
        if isinstance(message, CandidateList):
            await self.core.remember_ballot(message.round_id, ts)

    def _locale(self, reply: Reply) -> str:
        """The group's language as the core set it; else that of the reply's messages."""
        if reply.locale is not None:
            return reply.locale
        for message in (*reply.public, *reply.private):
            if not isinstance(message, Notice):
                return str(message.locale)
        return self.locale

    async def tell(self, origin: Origin, message: Message) -> None:
        """Only the invoker sees it (ephemeral)."""
        drawn = render(message)
        try:
            if origin.respond is not None:
                sent = await origin.respond(
                    text=drawn.text,
                    blocks=drawn.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
                if getattr(sent, "status_code", 200) != 200:  # e.g. the response_url expired
                    log.warning("response_url refused an answer: %s", getattr(sent, "body", ""))
            else:
                await self.client.chat_postEphemeral(
                    channel=origin.channel_id,
                    user=origin.user_id,
                    text=drawn.text,
                    blocks=drawn.blocks,
                )
        except Exception:  # a reply that cannot be sent must not take the others with it
            log.exception("could not answer %s in %s", origin.user_id, origin.channel_id)

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
        if post is None or origin.respond is None:
            return
        drawn = render(post.ballot)
        try:
            await origin.respond(
                text=drawn.text,
                blocks=drawn.blocks,
                response_type="ephemeral",
                replace_original=True,
            )
        except Exception:
            log.exception("could not redraw %s's ballot", origin.user_id)

    async def _draw_ballot(self, post: BallotPost) -> None:
        await self.update(post.channel_id, post.ref, post.ballot)
