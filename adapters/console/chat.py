"""The local console chat: type the same commands as in Slack, as any member (``/as bob``).

Interactive on a terminal (rich prompt, one prompt per card field); with standard input from a
file or pipe it reads one command per line and exits at the end, so a week can be scripted.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from adapters.console.render import render
from bot.context import Invocation
from bot.core import Yomikai
from bot.i18n import t
from bot.messages import (
    CARD_EXTRAS,
    CARD_FIELDS,
    CardField,
    CardForm,
    DeckFile,
    Message,
    Reply,
)

PLATFORM = "console"
CHANNEL = "console"
_MENTION = re.compile(r"(?<![\w<])@([A-Za-z0-9_.\-]{1,64})")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
LOCAL_HELP = "Console: /as <name> to speak as another member, /quit to leave."


@dataclass(frozen=True)
class Line:
    """One typed line, understood: a core command, a console action, or nothing."""

    invocation: Invocation | None = None
    switch_to: str | None = None
    quit: bool = False
    note: str | None = None


def parse_line(line: str, user: str) -> Line:
    text = line.strip()
    if not text or text.startswith("#"):
        return Line()
    if not text.startswith("/"):
        return Line(note="Commands start with / — try /yomikai help. " + LOCAL_HELP)
    name, _, rest = text[1:].partition(" ")
    name = name.lower()
    if name in ("quit", "exit"):
        return Line(quit=True)
    if name == "as":
        who = rest.strip().lstrip("@")
        if not _NAME.match(who):
            return Line(note="Usage: /as <name>, for example /as bob (letters, digits, . _ -).")
        return Line(switch_to=who)
    if name == "help":
        name, rest = "yomikai", "help"
    # Console members are known by name, so "@carol" is a mention of the member carol.
    rest = _MENTION.sub(lambda m: f"<@{m.group(1).lower()}|{m.group(1)}>", rest)
    invocation = Invocation(
        platform=PLATFORM,
        channel_id=CHANNEL,
        user_id=user.lower(),
        user_name=user,
        command=name,
        text=rest.strip(),
    )
    return Line(invocation=invocation)


class ConsoleChat:
    """Reads lines, hands commands to the core, draws the replies; also the console's
    ``ChatAdapter``, so scheduled posts and reminders appear between prompts."""

    platform = PLATFORM

    def __init__(
        self,
        core: Yomikai,
        console: Console,
        *,
        user: str = "alice",
        stdin: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.core = core
        self.console = console
        self.user = user
        self.stdin = stdin or sys.stdin
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self._posted = 0

    async def run(self) -> None:
        if self.interactive:
            self.console.print(f"Yomikai console. {LOCAL_HELP} You are {self.user}.")
        while True:
            raw = await self._read(f"{self.user}> ")
            if raw is None:
                return
            if not self.interactive and raw.strip():
                self.console.print(f"[bold]{self.user}>[/bold] ", end="")
                self.console.print(raw.rstrip("\n"), markup=False, highlight=False)
            if not await self.feed(raw):
                return

    async def feed(self, raw: str) -> bool:
        """Handle one line; False when the user asked to quit."""
        line = parse_line(raw, self.user)
        if line.quit:
            return False
        if line.switch_to:
            self.user = line.switch_to
            self.console.print(f"You are now {self.user}.")
        if line.note:
            self.console.print(line.note, markup=False)
        if line.invocation:
            reply = await self.core.handle(line.invocation)
            self.show(reply)
            forms = [m for m in reply.private if isinstance(m, CardForm)]
            await self._fill_forms(line.invocation, forms)
        return True

    async def post(
        self, channel_id: str, message: Message, *, key: str = "", since: datetime | None = None
    ) -> str:
        """A post in the channel (the outbox sends it here, before the command's own reply);
        a deck is written to a file in the current folder, and its path shown."""
        if isinstance(message, DeckFile):
            path = Path(message.filename).resolve()
            path.write_bytes(message.data)
            self.console.print(
                Text(f"{message.intro} {t(message.locale, 'deck.saved', path=path)}")
            )
            self._posted += 1
            return f"console-{self._posted}"
        self.console.print(render(message))
        self._posted += 1
        return f"console-{self._posted}"

    async def update(self, channel_id: str, ref: str, message: Message) -> None:
        """A terminal cannot redraw an old post; /candidates shows the current tallies."""

    async def dm(
        self,
        user_id: str,
        message: Message,
        *,
        fallback_channel_id: str | None = None,
        key: str = "",
        since: datetime | None = None,
    ) -> str | None:
        self.console.print(f"(direct message to {user_id})", markup=False, style="dim")
        return await self.post(user_id, message)

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        self.show(reply)

    def show(self, reply: Reply) -> None:
        """Draw a reply's private part (what it announced was posted through the outbox);
        card forms are asked for by ``_fill_forms`` instead."""
        for message in reply.private:
            if not isinstance(message, CardForm):
                self.console.print(render(message))

    async def _fill_forms(self, origin: Invocation, forms: list[CardForm]) -> None:
        for form in forms:
            if not self.interactive:  # a script writes fields inline: /card 3 method: …
                self.console.print(t(form.locale, "card.no_fields"), markup=False)
                continue
            self.console.print(render(form))
            fields = await self._ask_fields(form)
            if fields is None:
                return
            self.show(await self.core.submit_card(origin, form.number, fields))

    async def _ask_fields(self, form: CardForm) -> dict[str, str] | None:
        answers: dict[str, str] = {}
        for key in CARD_FIELDS + CARD_EXTRAS:
            current = form.values.get(key, "")
            shown = f" [{current[:40]}]" if current else ""
            name = CardField(key, current, key in form.drafted).label(form.locale)
            raw = await self._read(f"{name}{shown}: ")
            if raw is None:
                return None
            # Enter keeps what is shown, so a draft shown is confirmed by saving the form.
            value = raw.strip() or current
            if value:
                answers[key] = value
        return answers

    async def _read(self, prompt: str) -> str | None:
        """One line, or None at the end of input."""

        def read() -> str | None:
            if not self.interactive:
                return self.stdin.readline() or None
            stream = None if self.stdin is sys.stdin else self.stdin
            try:
                line = self.console.input(prompt, markup=False, stream=stream)
            except EOFError:
                return None
            return None if stream is not None and not line else line

        # Blocking input runs in a thread so the scheduler keeps running on the loop meanwhile.
        return await asyncio.to_thread(read)
