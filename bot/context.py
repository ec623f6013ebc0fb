"""What a handler is given: the invocation as typed, and one database transaction around it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.cleaning import clean
from bot.errors import UserError
from bot.i18n import Translator
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.drafting.drafter import Drafter
    from bot.group_setup import GroupDefaults
    from bot.papers import PaperCatalog
    from bot.sources.trending import TrendingChain


@dataclass(frozen=True)
class Services:
    """What the core was built with, for the steps that run outside a transaction."""

    catalog: PaperCatalog
    defaults: GroupDefaults
    trending: TrendingChain | None = None
    drafter: Drafter | None = None
    """Drafts cards in the background; None: cards start empty (the presenter writes them)."""
    public_url: str = ""
    """Where the bot's HTTP server is reachable from outside (``YOMIKAI_PUBLIC_URL``): the
    calendar links are made under it. Empty: no public address is known."""


@dataclass(frozen=True)
class Invocation:
    """A command as a user typed it, whatever the platform: ``/nominate 2204.06974 why``."""

    platform: str
    channel_id: str
    user_id: str
    user_name: str
    command: str
    text: str = ""
    workspace_id: str = ""
    organizer_command: str = "yomikai"
    """The command organizers' subcommands are listed under on this platform. Discord can hide
    only whole commands from members, so there they live under ``/yomikai-admin``."""
    request_key: str = ""
    """The inbox key this request was recorded under (``bot.delivery.inbox``), if it was."""

    def cleaned(self) -> Invocation:
        """The same invocation with what people typed cleaned (``bot.cleaning``)."""
        return replace(
            self,
            user_name=clean(self.user_name, lines=False),
            command=clean(self.command, lines=False),
            text=clean(self.text),
        )


@dataclass
class Tx:
    """One handler call: a transaction, the group and member it concerns, and the time."""

    session: Session
    inv: Invocation
    group: Group | None
    member: Member | None
    now: datetime
    tr: Translator
    prepared: Any = None
    drafting: bool = False
    """Cards are drafted here (a drafter is configured): closing a round asks for drafts."""
    public_url: str = ""
    """``Services.public_url``: an agenda links its session's ``.ics`` under it."""

    @property
    def bound_group(self) -> Group:
        if self.group is None:
            raise UserError("group.not_set_up", show_usage=False)
        return self.group

    @property
    def me(self) -> Member:
        if self.member is None:
            raise UserError("group.not_set_up", show_usage=False)
        return self.member

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.bound_group.timezone)

    def require_organizer(self) -> None:
        if not self.me.is_organizer:
            raise UserError("organizer.only", show_usage=False)
