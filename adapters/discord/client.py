"""The discord.py client: slash commands synced at start, persistent buttons, a chosen gateway.

``DISCORD_API_URL`` (a REST proxy such as nirn-proxy, or a fake Discord in tests) moves the REST
base; a plain ``discord.Client`` would still dial Discord's built-in gateway address without
asking, so the gateway address is read from that API's ``GET /gateway`` and dialled instead.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

from adapters.discord.commands import CatalogTranslator, install
from adapters.discord.components import DYNAMIC_ITEMS
from adapters.discord.handlers import Handlers

log = logging.getLogger(__name__)


class ClaimingTree(app_commands.CommandTree["YomikaiClient"]):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Autocomplete reaches every replica too; only the one that claims it answers.

        (Commands, clicks and forms are claimed by the ``Responder`` that answers them.)
        """
        if interaction.type is discord.InteractionType.autocomplete:
            return await self.client.handlers.responder.claim(interaction)
        return True


class YomikaiClient(discord.Client):
    def __init__(
        self,
        handlers: Handlers,
        *,
        guild_id: int | None = None,
        ready_timeout: float = 2.0,
        message_content: bool = True,
    ) -> None:
        # Yomikai never joins voice: don't warn at every start that voice libraries are absent.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            # Slash commands and components need no privileged intents; guilds is the minimum.
            # Messages (with their text: the privileged intent) are read in a card's thread.
            intents=discord.Intents(
                guilds=True, guild_messages=True, message_content=message_content
            ),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=ready_timeout,
        )
        self.handlers = handlers
        self.guild_id = guild_id
        self.tree = ClaimingTree(self)
        self.synced: list[app_commands.AppCommand] = []

    async def setup_hook(self) -> None:
        """After login, before the gateway: persistent buttons, then the slash commands."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.tree.set_translator(CatalogTranslator())
        install(self.tree, self.handlers)
        try:
            if self.guild_id is not None:
                guild = discord.Object(self.guild_id)
                self.tree.copy_global_to(guild=guild)
                self.synced = await self.tree.sync(guild=guild)
            else:
                self.synced = await self.tree.sync()
        except discord.Forbidden as error:
            where = f"server {self.guild_id} (DISCORD_GUILD_ID)" if self.guild_id else "Discord"
            raise RuntimeError(
                f"Discord refused the slash commands for {where}: invite the bot with the"
                " `applications.commands` scope (see the README's 'Connect Discord')."
            ) from error
        log.info("synced %d Discord slash commands", len(self.synced))

    async def on_message(self, message: discord.Message) -> None:
        """A message in a card's thread is kept as a question; no message is ever a command."""
        if not message.author.bot:  # (the bot's own thread openings included)
            await self.handlers.thread_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # Card forms are answered by custom_id, so a form opened before a restart still saves.
        if interaction.type is discord.InteractionType.modal_submit:
            await self.handlers.modal_submitted(interaction)

    async def read_gateway(self) -> yarl.URL:
        """The gateway address the configured API announces (``GET /gateway``)."""
        data: dict[str, Any] = await self.http.request(Route("GET", "/gateway"))
        return yarl.URL(str(data["url"]))


def dial_gateway(http: HTTPClient, gateway: yarl.URL) -> None:
    """Make this client dial ``gateway`` where discord.py would dial its built-in address.

    discord.py keeps the address in ``DiscordWebSocket.DEFAULT_GATEWAY`` (a class attribute, and
    the only one ``Client.connect`` uses); only this client's connections are redirected, keeping
    the query discord.py adds (version, encoding, compression). Resumes use the address the
    gateway itself gave in READY, as with Discord.
    """
    dial = http.ws_connect
    builtin = DiscordWebSocket.DEFAULT_GATEWAY

    async def ws_connect(url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        asked = yarl.URL(url)
        if asked.host == builtin.host:
            url = str(gateway.with_query(asked.query))
        return await dial(url, compress=compress)

    http.ws_connect = ws_connect  # type: ignore[method-assign]
