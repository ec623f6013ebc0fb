"""The console chat: parsing, rich rendering of hostile text, and a scripted week end to end."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from adapters.console.chat import ConsoleChat, parse_line
from adapters.console.render import render
from bot.context import Invocation
from bot.core import Yomikai
from bot.messages import CandidateLine, CandidateList, CardField, Problem, SummaryCard
from tests.fakes.arxiv_server import FakeArxiv

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "[bold red]@everyone[/] <!channel> <@U123> **x**"


def drawn(message: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(render(message))
    return console.file.getvalue()


def test_parse_line() -> None:
    line = parse_line("/vote 2", "Bob")
    assert line.invocation is not None
    assert (line.invocation.command, line.invocation.text) == ("vote", "2")
    assert (line.invocation.user_id, line.invocation.user_name) == ("bob", "Bob")
    assert parse_line("/as carol", "bob").switch_to == "carol"
    assert parse_line("/as <script>", "bob").note is not None
    assert parse_line("/quit", "bob").quit
    assert parse_line("# a comment", "bob") == parse_line("   ", "bob")
    assert parse_line("vote 2", "bob").note == "console.not_a_command"
    assert parse_line("/yomikai\tstatus", "bob").invocation.text == "status"
    mention = parse_line("/yomikai assign 3 @Carol", "alice").invocation
    assert mention is not None and mention.text == "assign 3 <@carol|Carol>"
    assert parse_line("/help", "bob").invocation.text == "help"


def test_hostile_text_is_shown_literally() -> None:
    ballot = CandidateList(
        locale="en",
        round_id=1,
        candidates=(CandidateLine(1, 1, "2204.06974", HOSTILE, "https://x", 3, 1, 0.0),),
    )
    assert HOSTILE in drawn(ballot)
    card = SummaryCard(
        locale="ja",
        number=1,
        meets_at=datetime(2026, 12, 2, 17, tzinfo=UTC),
        arxiv_id="2204.06974",
        title=HOSTILE,
        url="https://arxiv.org/abs/2204.06974",
        translated_title="",
        summary="",
        fields=(CardField("purpose", HOSTILE), CardField("results", "")),
        presenter=None,
    )
    shown = drawn(card)
    assert shown.count("[bold red]@everyone[/]") == 2
    assert (
        "目的" in shown and "成果" in shown and "未" in shown
    )  # labels and draft note in Japanese
    assert "[/]" in drawn(Problem(HOSTILE))


async def test_card_prompts_fill_every_field(core: Yomikai) -> None:
    script = io.StringIO(
        "/yomikai setup papers 1\n/yomikai join\n/nominate 2204.06974\n"
        "/yomikai open\n/yomikai close\n/card 1\n"
        "find backdoors\nthey exist\nsignatures\n\nMIT, Berkeley\na short summary\n\n\n"
        "/summary 1\n"
        # Enter keeps each value; "-" is a model name too: "the paper names none".
        "/card 1\n\n\n\n-\n\n\n\n\n"
    )
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    chat = ConsoleChat(core, console, user="alice", stdin=script, interactive=True)
    await chat.run()
    text = out.getvalue()
    _, second = text.split("Still missing: Model name")
    assert "find backdoors" in second and "MIT, Berkeley" in second and "a short summary" in second
    assert "Card 1 is finished" in second


async def test_remind_in_the_console_posts_the_agenda_and_the_reminder_once(
    core: Yomikai,
) -> None:
    """Issue 12: the console had no drawing for a Reminder, so /yomikai remind failed."""
    script = io.StringIO(
        "/yomikai setup papers 1\n/yomikai join\n/nominate 2204.06974\n"
        "/yomikai open\n/yomikai close\n/yomikai remind\n"
    )
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    chat = ConsoleChat(core, console, user="alice", stdin=script, interactive=False)
    core.connect(chat)
    await chat.run()
    text = out.getvalue()
    assert "(direct message to alice)" in text and "Your card 1 is not finished yet" in text
    assert "1 posts in the channel, 1 direct reminders" in text
    assert text.count("Session of") == 2  # the agenda at close, again at remind, once each
    assert "nothing was changed" not in text and "Traceback" not in text


def test_scripted_week_through_the_real_command(fake_arxiv: FakeArxiv, tmp_path: Path) -> None:
    """``yomikai run < week.txt``: the installed command, a real SQLite file, fake arXiv."""
    week = (ROOT / "tests" / "fixtures" / "console" / "week.txt").read_text(encoding="utf-8")
    env = {
        **os.environ,
        "YOMIKAI_DATABASE_URL": f"sqlite:///{tmp_path / 'week.db'}",
        "YOMIKAI_ARXIV_API_URL": fake_arxiv.url,
        "YOMIKAI_ARXIV_HTML_URL": "http://127.0.0.1:9/html",  # (no draft reaches out)
        "YOMIKAI_AR5IV_URL": "http://127.0.0.1:9/html",
        "YOMIKAI_ARXIV_SPACING": "0",
        "YOMIKAI_TIMEZONE": "Asia/Tokyo",
        "COLUMNS": "120",
    }
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("DISCORD_BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        input=week,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "This channel now has a reading group" in out
    assert "bob supports" in out
    assert "Candidates for the next session" in out
    assert "Planting Undetectable Backdoors" in out
    assert "Card 1 is finished" in out
    assert "目的" in out  # the group switched to Japanese before /summary
    assert "カード 2 枚を Markdown にまとめました" in out and "### 目的" in out  # /yomikai export
    assert "Traceback" not in out + result.stderr
    assert (tmp_path / "week.db").exists()


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("YOMIKAI_LOCALE=fr\n", encoding="utf-8")
    env = {**os.environ, "YOMIKAI_TIMEZONE": "Mars/Olympus"}
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "YOMIKAI_TIMEZONE: 'Mars/Olympus' is not an IANA time zone" in result.stdout
    assert "YOMIKAI_LOCALE: 'fr' is not a shipped language" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


async def test_ctrl_d_in_the_card_form_keeps_what_was_typed_and_says_so(core: Yomikai) -> None:
    script = io.StringIO(
        "/yomikai setup papers 1\n/yomikai join\n/nominate 2204.06974\n"
        "/yomikai open\n/yomikai close\n/card 1\nfind backdoors\n\nsignatures\n"  # then Ctrl-D
    )
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    await ConsoleChat(core, console, user="alice", stdin=script, interactive=True).run()
    text = out.getvalue()
    assert "the form was closed early. What you typed is saved" in text
    shown = io.StringIO()
    reply = await core.handle(Invocation("console", "console", "alice", "alice", "summary", "1"))
    ConsoleChat(core, Console(file=shown, width=120, color_system=None)).show(reply)
    card = shown.getvalue()
    assert "find backdoors" in card and "signatures" in card
    assert "Results              (not yet written)" in card


def _run_console(script: bytes, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {
        **os.environ,
        "YOMIKAI_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "YOMIKAI_ARXIV_HTML_URL": "http://127.0.0.1:9/html",  # (no draft reaches out)
        "YOMIKAI_AR5IV_URL": "http://127.0.0.1:9/html",
        "YOMIKAI_ARXIV_SPACING": "0",
        "COLUMNS": "120",
        **env,
    }
    environment.pop("SLACK_BOT_TOKEN", None)
    environment.pop("DISCORD_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *env.pop("ARGS", "run").split()],
        input=script,
        capture_output=True,
        env=environment,
        cwd=tmp_path,
        timeout=90,
    )


def test_invalid_utf8_and_logs_never_reach_the_chat(tmp_path: Path) -> None:
    """Bytes that are no UTF-8, with strict decoding asked for: each line still answered; and
    arXiv being down is a line in yomikai.log, not a log line amid the chat."""
    script = (
        b"/yomikai setup papers 1\n/nominate \xff\xfe2204.06974\n\xc3\x28 hello\n"
        b"/nominate 2204.06974\n/yomikai status\n"
    )
    dead = "http://127.0.0.1:9/api/query"  # (nothing listens on port 9: arXiv is down)
    result = _run_console(script, tmp_path, PYTHONIOENCODING="utf-8", YOMIKAI_ARXIV_API_URL=dead)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in out + err and "WARNING" not in out + err
    assert "is not an arXiv paper" in out  # the line with bad bytes, answered
    assert "Commands start with /" in out
    assert "arXiv is not answering right now" in out
    assert "Reading group status" in out
    log = (tmp_path / "yomikai.log").read_text(encoding="utf-8")
    assert "arXiv request failed" in log


def test_verbose_shows_the_log_in_the_terminal_too(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/api/query"
    script = b"/yomikai setup\n/nominate 2204.06974\n"
    result = _run_console(script, tmp_path, ARGS="-v run", YOMIKAI_ARXIV_API_URL=dead)
    assert "arXiv request failed" in result.stderr.decode()
    assert "arXiv request failed" in (tmp_path / "yomikai.log").read_text(encoding="utf-8")


def test_the_demo_runs_a_week_offline(tmp_path: Path) -> None:
    """``yomikai run --demo``: every site is the bundled catalog; the URL settings that point
    at nothing (and a Slack token) are ignored, and nothing is stored where the bot usually
    keeps its database."""
    script = (
        b"/yomikai setup papers 2\n/yomikai join\n/yomikai poll\n/nominate 1706.03762\n"
        b"/yomikai open\n/vote 1 2\n/yomikai close\n/summary 1\n"
    )
    dead = "http://127.0.0.1:9"
    result = _run_console(
        script,
        tmp_path,
        ARGS="run --demo",
        YOMIKAI_ARXIV_API_URL=f"{dead}/api/query",
        YOMIKAI_HF_API_URL=dead,
        YOMIKAI_ARXIV_HTML_URL=dead,
        SLACK_BOT_TOKEN="xoxb-not-used",
        SLACK_SIGNING_SECRET="not-used",
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "Demo: a throwaway database, and 16 real arXiv papers" in out
    assert "Poll: 16 new trending papers from huggingface" in out
    assert "alice nominated “Attention Is All You Need”" in out
    assert "Session of" in out and "Attention Is All You Need" in out
    assert "Traceback" not in out + result.stderr.decode()
    assert not (tmp_path / "console.db").exists()


def test_ctrl_c_stops_the_console_without_waiting_for_enter(tmp_path: Path) -> None:
    """The console waits for a line in a thread; SIGINT must end the bot at once, not after the
    next line arrives (standard input stays open here, as a terminal's does)."""
    environment = {**os.environ, "YOMIKAI_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    environment.pop("SLACK_BOT_TOKEN", None)
    environment.pop("DISCORD_BOT_TOKEN", None)
    bot = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        cwd=tmp_path,
    )
    try:
        assert bot.stdin is not None and bot.stdout is not None
        bot.stdin.write(b"/yomikai help\n")
        bot.stdin.flush()
        seen = b""
        while b"/yomikai export" not in seen:  # the help is drawn: the bot waits for a line
            chunk = bot.stdout.read1(4096)
            assert chunk, "the console ended early"
            seen += chunk
        bot.send_signal(signal.SIGINT)
        assert bot.wait(timeout=10) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    assert b"Traceback" not in bot.stderr.read() if bot.stderr else True
