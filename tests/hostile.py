"""Hypothesis strategies for hostile input: every class of text a member (or a paper) can send.

Each example is ``(input class, text)``, so that ``docs/reliability.md`` can say per class what
was tried and how it came out (``tests/reliability_report.py``).
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.registry import COMMANDS

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""What no text the bot says may hold (tab and newline are fine)."""
KNOWN = {"U-alice", "U-bob", "U-carol"}
"""The members of the tests' groups: the only mentions the bot may make."""


def examples(count: int) -> Any:
    return settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def encodable(text: str) -> bool:
    """Slack and Discord send UTF-8: a lone surrogate cannot reach the bot through them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


ARXIV_SHAPES = (
    "2204.06974",
    "2204.06974v2",
    "arXiv:2204.00598",
    "https://arxiv.org/abs/2204.06974v1",
    "https://arxiv.org/pdf/2204.00598.pdf",
    "hep-th/9901001",
    "2204.99999",
    "2213.00001",
    "0704.0001",
    "1234.5678",
    "２２０４.０６９７４",
    "10.48550/arXiv.2204.06974",
    "https://huggingface.co/papers/2204.06974",
)
OTHER_SITES = (
    "https://evil.example/abs/2204.06974",
    "javascript:alert(1)",
    "http://127.0.0.1:1/abs/2204.06974",
    "<https://evil.example|click me>",
    "file:///etc/passwd",
)
PINGS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "@everyone",
    "@here",
    "<@U123>",
    "<@U123|mallory>",
    "<@&883096824070668290>",
    "<!subteam^S123>",
    "<#C123>",
)
MARKUP = (
    "**bold** _it_ ~~x~~",
    "```\nunclosed fence",
    "<!-- comment",
    "## heading",
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    "&amp; &lt; &#0;",
    "> quote\n- list\n---",
    "|a|b|\n|-|-|",
    "[bold red]rich[/]",
)
SQL = (
    "1' OR '1'='1",
    "'; DROP TABLE paper;--",
    "1; DELETE FROM vote",
    '" OR ""="',
    "%",
    "_",
    "\\",
)
CONTROLS = (
    "\x00",
    "a\x00b",
    "\x1b]0;title\x07",
    "\x1b[31mred\x1b[0m",
    "\x1b[2J",
    "\r\n\r\n",
    "\t\t",
    "\x7f\x08",
    "\u202eevil\u202c",
    "\ufeff",
    "\x9b31m",
)
DIGITS = (
    "３",
    "１２",
    "١",
    "٣٤",
    "-1",
    "0",
    "+2",
    "1.5",
    "1e3",
    "99999999999999999999",
    "9" * 400,
    "#2",
    "1 2 3",
    "0x10",
)
SCRIPTS = ("مرحبا", "שלום", "\u200fرقم\u200e", "目的：バックドア", "🎉🧪", "Z̷̢a̸l̵g̶o̷")


def _fixed(name: str, values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str]]:
    return st.sampled_from(values).map(lambda value: (name, value))


def _mixed() -> st.SearchStrategy[tuple[str, str]]:
    """Pieces of every class glued together, as a real paste looks."""
    pieces = st.sampled_from(
        ARXIV_SHAPES + OTHER_SITES + PINGS + MARKUP + SQL + CONTROLS + DIGITS + SCRIPTS
    )
    return st.lists(pieces, min_size=2, max_size=5).map(lambda parts: ("mixed", " ".join(parts)))


def _surrogates() -> st.SearchStrategy[tuple[str, str]]:
    lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    return st.tuples(st.text(max_size=5), lone, st.text(max_size=5)).map(
        lambda parts: ("invalid surrogates", "".join(parts))
    )


def hostile_text() -> st.SearchStrategy[tuple[str, str]]:
    """One hostile argument text, labelled with its input class."""
    return st.one_of(
        st.just(("empty", "")),
        _fixed("arXiv-like ids", ARXIV_SHAPES),
        _fixed("other sites' URLs", OTHER_SITES),
        _fixed("mentions and pings", PINGS),
        _fixed("Markdown, HTML, rich markup", MARKUP),
        _fixed("SQL", SQL),
        _fixed("control characters, ANSI escapes", CONTROLS),
        _fixed("numbers in every form", DIGITS),
        _fixed("RTL, CJK, emoji", SCRIPTS),
        _surrogates(),
        st.text(max_size=40).map(lambda text: ("arbitrary Unicode", text)),
        st.integers(3_000, 12_000).map(lambda n: ("huge", "x" * n)),
        _mixed(),
    )


def command_lines() -> st.SearchStrategy[tuple[str, str]]:
    """``(command path, argument template)``: the hostile text alone, or after valid words
    (a nomination's reason, a card field, a setting), so that it is also stored and then
    shown again (``/summary``, ``/yomikai export``, the ballot)."""
    bare = [(spec.path, "{}") for spec in COMMANDS]
    after_valid = [
        ("nominate", "2204.03458 {}"),
        ("card", "1 purpose: {}"),
        ("card", "1 model: {} method: {}"),
        ("card", "2 summary: {}"),
        ("vote", "1 {}"),
        ("summary", "1 {}"),
        ("summary", "1"),
        ("yomikai export", ""),
        ("candidates", ""),
        ("yomikai setup", "name {}"),
        ("yomikai setup", "timezone {}"),
        ("yomikai assign", "1 {}"),
        ("yomikai away", "{} 2026-12-24"),
    ]
    return st.sampled_from(bare + after_valid)


def filled(template: str, text: str) -> str:
    return template.replace("{}", text)
