"""The SQLModel tables: groups, members, papers, rounds and votes, sessions, slots, cards, outbox.

Unique constraints carry the idempotency rules of DESIGN.md ("Exactly once"): a member votes for a
candidate once, nominates a paper once, a round is opened once per group at a time, and every
scheduled post has one outbox row.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, time

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _aware(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Group(SQLModel, table=True):
    """A reading group: one chat channel on one platform, with its settings."""

    __tablename__ = "reading_group"
    __table_args__ = (
        UniqueConstraint("platform", "channel_id"),
        Index("reading_group_calendar_token", "calendar_token", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(default="", max_length=64)
    channel_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=80)
    """What the group calls itself (``/yomikai setup name …``), on its deck's title slide."""
    timezone: str = Field(default="UTC", max_length=64)
    locale: str = Field(default="en", max_length=8)
    meeting_weekday: int = 2  # Monday is 0, as in datetime.weekday()
    meeting_time: time = time(17, 0)
    papers_per_session: int = 5
    candidates_per_round: int = 15
    categories: str = Field(default="cs.LG cs.CL cs.CV cs.AI", max_length=200)
    schedule: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Per-job overrides of the default weekly schedule (see ``bot/schedule.py``)."""
    threads: bool = True
    """Each posted card gets a discussion thread (``/yomikai setup threads on|off``)."""
    location: str = Field(default="", max_length=200)
    """Where the meeting is (a room, a video link): the calendar event's location."""
    calendar_token: str = Field(default_factory=lambda: secrets.token_urlsafe(18), max_length=64)
    """The unguessable part of the group's calendar feed address (``/calendar/<token>.ics``)."""
    events_refused: bool = False
    """The platform refused to make calendar events (Discord without *Manage Events*) and the
    organizers were told; they are told again only after events worked once more."""
    created_at: datetime = Field(sa_column=_aware())


class Member(SQLModel, table=True):
    """Someone who used the bot in a group; presenting is opt-in (``in_rotation``)."""

    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=128)
    is_organizer: bool = False
    in_rotation: bool = False
    joined_rotation_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    away_until: date | None = None
    created_at: datetime = Field(sa_column=_aware())


class Paper(SQLModel, table=True):
    """An arXiv paper's metadata, cached so a known paper never costs another request."""

    id: int | None = Field(default=None, primary_key=True)
    arxiv_id: str = Field(max_length=32, unique=True)
    version: int | None = None
    title: str = Field(sa_column=Column(Text, nullable=False))
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    affiliations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    abstract: str = Field(default="", sa_column=Column(Text, nullable=False))
    primary_category: str | None = Field(default=None, max_length=32)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    fetched_at: datetime = Field(sa_column=_aware())

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"


class Nomination(SQLModel, table=True):
    """A member's wish to read a paper; it stays in the group's pool until the paper is chosen."""

    __table_args__ = (UniqueConstraint("group_id", "paper_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    paper_id: int = Field(foreign_key="paper.id")
    member_id: int = Field(foreign_key="member.id")
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_aware())


class PoolEntry(SQLModel, table=True):
    """A trending paper the poll found for a group; the next round offers the top-scoring ones."""

    __tablename__ = "pool_entry"
    __table_args__ = (UniqueConstraint("group_id", "paper_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    paper_id: int = Field(foreign_key="paper.id")
    score: float = 0.0
    source: str = Field(max_length=32)
    extras: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """What the source said beyond metadata: upvotes, comments, code repository, AI summary."""
    added_at: datetime = Field(sa_column=_aware())


class Round(SQLModel, table=True):
    """A voting round; at most one is open per group (a partial unique index says so)."""

    __table_args__ = (
        Index(
            "one_open_round_per_group",
            "group_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    opened_at: datetime = Field(sa_column=_aware())
    closed_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))


class Candidate(SQLModel, table=True):
    """A paper on a round's ballot, numbered 1..K as members see it."""

    __table_args__ = (
        UniqueConstraint("round_id", "number"),
        UniqueConstraint("round_id", "paper_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    number: int
    paper_id: int = Field(foreign_key="paper.id")
    trending_score: float = 0.0


class Vote(SQLModel, table=True):
    """One member's approval of one candidate; toggled, never doubled."""

    __table_args__ = (UniqueConstraint("candidate_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id")
    member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_column=_aware())


class ReadingSession(SQLModel, table=True):
    """One meeting of the group, made when a round closes."""

    __tablename__ = "session"
    __table_args__ = (Index("session_uid", "uid", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    round_id: int = Field(foreign_key="round.id", unique=True)
    meets_at: datetime = Field(sa_column=_aware())
    created_at: datetime = Field(sa_column=_aware())
    uid: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=64)
    """The meeting's calendar identity: the same through every change, so an update replaces."""
    revision: int = 0
    """Bumped by every change a calendar shows (time, papers, cancel): iCalendar's SEQUENCE."""
    cancelled_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    event_ref: str | None = Field(default=None, max_length=64)
    """The platform's calendar event for it (a Discord Guild Scheduled Event id), once made."""


class Slot(SQLModel, table=True):
    """Paper n of a session and who presents it (``None``: open, anyone may take it)."""

    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="session.id", index=True)
    number: int
    paper_id: int = Field(foreign_key="paper.id")
    presenter_id: int | None = Field(default=None, foreign_key="member.id")


class Card(SQLModel, table=True):
    """The summary card of a slot; finished when a person has set the five fields."""

    __table_args__ = (Index("card_draft_state", "draft_state", "draft_lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id", unique=True)
    purpose: str = Field(default="", sa_column=Column(Text, nullable=False))
    results: str = Field(default="", sa_column=Column(Text, nullable=False))
    method: str = Field(default="", sa_column=Column(Text, nullable=False))
    model_name: str = Field(default="", sa_column=Column(Text, nullable=False))
    affiliations: str = Field(default="", sa_column=Column(Text, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    translated_title: str = Field(default="", sa_column=Column(Text, nullable=False))
    translated_abstract: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=_aware())
    updated_by_id: int | None = Field(default=None, foreign_key="member.id")
    drafted: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Parts whose text is still the bot's draft; a part a person saves leaves this list."""
    sources: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Part → where its drafted text came from (``bot.drafting.draft.SOURCES``)."""
    draft_notes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """What the last draft could not do, as catalog keys (``draft.note.*``)."""
    draft_state: str = Field(default="", max_length=16)
    """``pending`` (to be drafted, durable across a crash), ``drafting`` (leased until
    ``draft_lease_until``), ``done``; empty for a card nobody asked a draft of."""
    draft_lease_until: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    draft_attempts: int = 0
    drafted_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))


class PaperThread(SQLModel, table=True):
    """A posted card's discussion thread (``bot.threads``): made once per slot."""

    __tablename__ = "paper_thread"
    __table_args__ = (UniqueConstraint("group_id", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id", unique=True)
    group_id: int = Field(foreign_key="reading_group.id")
    ref: str = Field(max_length=200)
    """The platform's thread: Slack's parent message ``ts``, a Discord thread's channel id."""
    link: str = Field(default="", max_length=500)
    """Where a member opens it (a permalink), when the platform gives one."""
    created_at: datetime = Field(sa_column=_aware())


class Question(SQLModel, table=True):
    """A message written in a paper's thread, kept for the meeting (never run as a command)."""

    __tablename__ = "thread_question"

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    key: str = Field(max_length=200, unique=True)
    """The platform message's identity, so a retried event is kept once."""
    author_id: str = Field(max_length=64)
    author_name: str = Field(default="", max_length=128)
    text: str = Field(sa_column=Column(Text, nullable=False))
    asked_at: datetime = Field(sa_column=_aware())


class PaperPage(SQLModel, table=True):
    """What a paper's HTML full text said, fetched once per version (``bot.drafting.pages``).

    Only what drafting reads is kept: the author block's institutions and the start of the text.
    """

    __tablename__ = "paper_page"
    __table_args__ = (UniqueConstraint("arxiv_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    arxiv_id: str = Field(max_length=32)
    version: int = 0
    """0: the version was not known, the newest was asked for."""
    found: str = Field(default="", max_length=16)
    """``arxiv`` or ``ar5iv`` (where the page was), or empty (no HTML anywhere)."""
    affiliations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    fetched_at: datetime = Field(sa_column=_aware())


class ModelAnswer(SQLModel, table=True):
    """A language model's validated draft, cached by (paper, version, language, model)."""

    __tablename__ = "model_answer"
    __table_args__ = (UniqueConstraint("arxiv_id", "version", "language", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    arxiv_id: str = Field(max_length=32)
    version: int = 0
    language: str = Field(max_length=8)
    model: str = Field(max_length=200)
    answer: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=_aware())


class PoliteBudget(SQLModel, table=True):
    """A request budget shared by every process of an installation (arXiv: one request at a
    time, three seconds apart). ``holder`` has the turn until ``lease_until``; the next turn
    is free from ``free_at``."""

    __tablename__ = "polite_budget"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(default="", max_length=32)
    lease_until: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    free_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))


class OutboxPost(SQLModel, table=True):
    """A post the bot makes, written in the same transaction as the change it announces.

    ``state`` goes pending → sending (leased to one sender until ``lease_until``) → sent (with
    the platform's ``message_ref``, so later edits happen in place), or failed after the last
    attempt. ``bot.delivery`` is the only code that reads or writes it.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("outbox_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    key: str = Field(max_length=200, unique=True)
    token: str = Field(default="", max_length=32)
    """Made once per row: what the platform tells this post apart by (a nonce, metadata), so a
    database started afresh, reusing the same keys, never matches an older post."""
    kind: str = Field(default="post", max_length=16)
    """``post`` (to the group's channel), ``dm`` (to ``target``, a member) or ``redraw``."""
    target: str = Field(default="", max_length=64)
    payload: dict[str, object] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The message (``bot.delivery.codec``); a ballot is drawn fresh from the database."""
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    due_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    first_sent_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    """When a send was first tried: a re-send looks for the post on the platform from here on."""
    error: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_column=_aware())
    sent_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    message_ref: str | None = Field(default=None, max_length=200)


class JobRun(SQLModel, table=True):
    """A scheduled job's run for one due time, claimed in the same transaction as its work."""

    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="reading_group.id", index=True)
    key: str = Field(max_length=200, unique=True)
    ran_at: datetime = Field(sa_column=_aware())


class ReceivedRequest(SQLModel, table=True):
    """The inbox: a request from a chat platform, recorded before it is acknowledged.

    Its key is unique, so every bot process recognises a repeat (a Slack retry, a Discord
    interaction delivered to every replica). ``state`` is ``pending`` until the request's effect
    is committed (``done``, in the same transaction) or it is given up (``failed``, the member
    told); a pending request whose lease ran out (its process died) is run again.
    """

    __tablename__ = "received_request"
    __table_args__ = (
        Index("received_request_state", "state", "lease_until"),
        Index("received_request_received_at", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    received_at: datetime = Field(sa_column=_aware())
    state: str = Field(default="done", max_length=16)
    payload: dict[str, object] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """What was asked (``bot.delivery.inbox``), enough to run it again after a crash."""
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
