"""A chat that talks to the real core the way an adapter does, recording what users would see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.context import Invocation
from bot.core import Yomikai
from bot.export import session_markdown
from bot.messages import (
    Agenda,
    CandidateList,
    CardForm,
    DeckFile,
    DeckPost,
    Message,
    Notice,
    Problem,
    Reply,
    SessionExport,
    SummaryCard,
)


class ManualClock:
    """A clock the test moves by hand: a whole week passes in no time."""

    def __init__(self, start: datetime = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def text_of(message: Message) -> str:
    """Roughly what a user reads, as plain text (for assertions)."""
    match message:
        case Notice():
            return "\n".join([message.text, *message.lines])
        case Problem():
            return "\n".join(filter(None, [message.text, message.usage, message.example]))
        case CandidateList():
            return "\n".join(
                f"{c.number}. {c.title} ({c.arxiv_id}) {c.votes} votes" for c in message.candidates
            )
        case Agenda():
            return "\n".join(
                f"{s.number}. {s.title} — {s.presenter.name if s.presenter else 'open'}"
                for s in message.slots
            )
        case SummaryCard():
            return "\n".join([message.title, *(f"{f.key}: {f.value}" for f in message.fields)])
        case CardForm():
            return f"form {message.number}: {message.title}"
        case SessionExport():
            return session_markdown(message)
        case DeckPost():
            return f"deck {message.format} of session {message.session_id}"
        case DeckFile():
            return f"{message.intro} ({message.filename})"
    raise TypeError(type(message))


@dataclass(frozen=True)
class Sent:
    """Something the bot sent on its own (a scheduled post, an edit, a direct message)."""

    at: datetime
    kind: str
    target: str
    message: Message
    ref: str = ""
    """The reference the platform gave the post (what later edits name)."""


@dataclass
class FakeChat:
    """One channel; ``say`` sends a line as a user and returns (and records) the reply.

    It is also the platform's ``ChatAdapter``: what the bot posts on its own (jobs, redraws)
    lands in ``sent``; what a command announced, posted while ``say`` ran, in ``announced``.
    """

    core: Yomikai
    channel: str = "C-paper-club"
    platform: str = "fake"
    log: list[tuple[str, str, Reply]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    announced: list[Sent] = field(default_factory=list)
    answers: list[Reply] = field(default_factory=list)
    """Replies to requests run again after a restart (``answer``)."""

    async def post(
        self, channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        return self._record("post", channel_id, message)

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        self.sent.append(Sent(self.core.clock.now(), "update", f"{channel_id}/{ref}", message))

    async def dm(
        self,
        user_id: str,
        message: Message,
        *,
        fallback_channel_id: str | None = None,
        key: str = "",
        since: datetime | None = None,
    ) -> str | None:
        return self._record("dm", user_id, message)

    def _record(self, kind: str, target: str, message: Message) -> str:
        ref = f"ref-{len(self.sent) + len(self.announced) + 1}"
        self.sent.append(Sent(self.core.clock.now(), kind, target, message, ref))
        return ref

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        self.answers.append(reply)

    async def say(self, user: str, line: str) -> Reply:
        command, _, text = line.removeprefix("/").partition(" ")
        invocation = Invocation(
            platform=self.platform,
            channel_id=self.channel,
            user_id=f"U-{user}",
            user_name=user,
            command=command,
            text=text,
        )
        before = len(self.sent)
        reply = await self.core.handle(invocation)
        self.announced.extend(self.sent[before:])
        del self.sent[before:]
        self.log.append((user, line, reply))
        return reply

    async def text(self, user: str, line: str) -> str:
        """Everything the user sees after ``line``, public and private, as text."""
        reply = await self.say(user, line)
        return "\n".join(text_of(m) for m in (*reply.public, *reply.private))

    async def problem(self, user: str, line: str) -> Problem:
        reply = await self.say(user, line)
        problems = [m for m in reply.private if isinstance(m, Problem)]
        assert problems and not reply.public, f"expected a problem for {line!r}, got {reply}"
        return problems[0]

    @staticmethod
    def only(reply: Reply, kind: type) -> list:
        return [m for m in (*reply.public, *reply.private) if isinstance(m, kind)]
