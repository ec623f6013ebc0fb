"""The local console chat: type the same commands as in Slack, as any member (``/as bob``).

Interactive on a terminal (rich prompt, one prompt per card field); with standard input from a
file or pipe it reads one command per line and exits at the end, so a week can be scripted.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from adapters.console.render import render
from bot.cleaning import clean
from bot.context import Invocation
from bot.core import Yomikai
from bot.export import session_markdown
from bot.i18n import t
from bot.messages import (
    CARD_EXTRAS,
    CARD_FIELDS,
    CardField,
    CardForm,
    DeckFile,
    Message,
    Reply,
    SessionExport,
)

PLATFORM = "console"
CHANNEL = "console"
_MENTION = re.compile(r"(?<![\w<@])@([A-Za-z0-9_.\-]{1,64})")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True)
class Line:
    """One typed line, understood: a core command, a console action, or nothing."""

    invocation: Invocation | None = None
    switch_to: str | None = None
    quit: bool = False
    note: str | None = None
    """The catalog key of what to tell the user (``console.…``)."""


def parse_line(line: str, user: str) -> Line:
    text = clean(line).strip()
    if not text or text.startswith("#"):
        return Line()
    if not text.startswith("/"):
        return Line(note="console.not_a_command")
    name, rest = (*text[1:].split(None, 1), "", "")[:2]
    name = name.lower()
    if name in ("quit", "exit"):
        return Line(quit=True)
    if name == "as":
        who = rest.strip().lstrip("@")
        if not _NAME.match(who):
            return Line(note="console.as_usage")
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
        log_file: str | None = None,
    ) -> None:
        self.core = core
        self.console = console
        self.user = user
        self.stdin = stdin or tolerant(sys.stdin)
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.log_file = log_file
        self._posted = 0

    async def run(self) -> None:
        if self.interactive:
            await self._say("console.banner", user=self.user)
            if self.log_file:
                await self._say("console.logs", path=self.log_file)
        while True:
            raw = await self._read(f"{self.user}> ")
            if raw is None:
                return
            if not self.interactive and raw.strip():
                self.console.print(f"[bold]{self.user}>[/bold] ", end="")
                self.console.print(clean(raw).rstrip("\n"), markup=False, highlight=False)
            if not await self.feed(raw):
                return

    async def _say(self, key: str, **params: str) -> None:
        """One of the console's own lines, in the group's language."""
        locale = await self.core.locale(PLATFORM, CHANNEL)
        self.console.print(t(locale, key, **params), markup=False, highlight=False)

    async def feed(self, raw: str) -> bool:
        """Handle one line; False when the user asked to quit."""
        line = parse_line(raw, self.user)
        if line.quit:
            return False
        if line.switch_to:
            self.user = line.switch_to
            await self._say("console.now_as", user=self.user)
        if line.note:
            await self._say(line.note)
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
        self._draw(message)
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
        locale = await self.core.locale(PLATFORM, CHANNEL)
        self.console.print(t(locale, "console.dm", user=user_id), markup=False, style="dim")
        return await self.post(user_id, message)

    async def answer(self, address: dict[str, str], reply: Reply) -> None:
        self.show(reply)

    def show(self, reply: Reply) -> None:
        """Draw a reply's private part (what it announced was posted through the outbox);
        card forms are asked for by ``_fill_forms`` instead."""
        for message in reply.private:
            if not isinstance(message, CardForm):
                self._draw(message)

    def _draw(self, message: Message) -> None:
        if isinstance(message, SessionExport):  # plain, so that it can be copied as it is
            self.console.print(message.intro(), markup=False, highlight=False)
            self.console.print(
                session_markdown(message), markup=False, highlight=False, soft_wrap=True
            )
            return
        self.console.print(render(message))

    async def _fill_forms(self, origin: Invocation, forms: list[CardForm]) -> None:
        for form in forms:
            if not self.interactive:  # a script writes fields inline: /card 3 method: …
                self.console.print(t(form.locale, "card.no_fields"), markup=False)
                continue
            self.console.print(render(form))
            fields, typed = await self._ask_fields(form)
            if fields is None:  # Ctrl-D: keep what was typed, and say so
                if typed:
                    self.show(await self.core.submit_card(origin, form.number, typed))
                key = "console.form_partial" if typed else "console.form_cancelled"
                self.console.print(t(form.locale, key, number=form.number), markup=False)
                return
            self.show(await self.core.submit_card(origin, form.number, fields))

    async def _ask_fields(self, form: CardForm) -> tuple[dict[str, str] | None, dict[str, str]]:
        """The whole form's values, or None when input ended; and what was typed so far."""
        answers: dict[str, str] = {}
        typed: dict[str, str] = {}
        for key in CARD_FIELDS + CARD_EXTRAS:
            current = form.values.get(key, "")
            shown = f" [{current[:40]}]" if current else ""
            name = CardField(key, current, key in form.drafted).label(form.locale)
            raw = await self._read(f"{name}{shown}: ")
            if raw is None:
                return None, typed
            if raw.strip():
                typed[key] = raw.strip()
            # Enter keeps what is shown, so a draft shown is confirmed by saving the form.
            value = raw.strip() or current
            if value:
                answers[key] = value
        return answers, typed

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

        # Blocking input runs in a thread so the scheduler keeps running on the loop meanwhile;
        # a daemon thread, so that Ctrl-C ends the bot at once, not after the next Enter.
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str | None] = loop.create_future()

        def reader() -> None:
            try:
                line: str | None = read()
            except BaseException as error:  # (handed to the loop, raised there)
                loop.call_soon_threadsafe(_settle, done, None, error)
                return
            loop.call_soon_threadsafe(_settle, done, line, None)

        threading.Thread(target=reader, name="console input", daemon=True).start()
        return await done


def _settle(
    future: asyncio.Future[str | None], line: str | None, error: BaseException | None
) -> None:
    if future.done():  # (the wait was cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(line)


def tolerant(stream: TextIO) -> TextIO:
    """Standard input that never fails on bytes that are not valid text (a pasted binary, a
    terminal in another encoding): they read as U+FFFD, whatever the locale says."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")
    return stream
