"""Plain text from what arXiv gives: LaTeX and HTML entities undone, sentences told apart."""

from __future__ import annotations

import html
import re

_SYMBOLS = {
    r"\times": "×",
    r"\sim": "~",
    r"\approx": "≈",
    r"\leq": "≤",
    r"\le": "≤",
    r"\geq": "≥",
    r"\ge": "≥",
    r"\pm": "±",
    r"\cdot": "·",
    r"\rightarrow": "→",
    r"\to": "→",
    r"\%": "%",
    r"\&": "&",
    r"\_": "_",
    r"\#": "#",
    r"\$": "$",
}
_STYLE = re.compile(
    r"\\(?:emph|textbf|textit|texttt|textsc|textrm|mathrm|mathbf|mathit|mathcal|text|url|"
    r"underline|textsf|mbox)\s*\{([^{}]*)\}"
)
_DROP = re.compile(r"\\(?:cite[tp]?|ref|eqref|footnote|label)\s*\{[^{}]*\}")
_COMMAND = re.compile(r"\\[A-Za-z]+\*?")
_MATH = re.compile(r"\$([^$]*)\$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A sentence ends at . ! or ? followed by a space and a capital, a digit or an opening mark,
# unless the full stop belongs to a known abbreviation.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“(\[])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Tab|No|approx|resp|Dr|Mr|Ms|Prof)"
    r"|\b[A-Z])\.$"
)


def plain(text: str) -> str:
    """``4$\\times$ more``, ``\\emph{x}``, ``&amp;`` → ``4× more``, ``x``, ``&`` (one line)."""
    text = _CONTROL.sub(" ", html.unescape(text)).replace("~", " ")  # (a LaTeX tie)
    text = _DROP.sub("", text)
    for _ in range(3):  # nested styles: \emph{\textbf{x}}
        text = _STYLE.sub(r"\1", text)
    text = _MATH.sub(lambda m: _math(m.group(1)), text)
    for command, symbol in _SYMBOLS.items():
        text = text.replace(command, symbol)
    text = _COMMAND.sub("", text).replace("--", "–")
    text = text.replace("{", "").replace("}", "")
    return _SPACES.sub(" ", text).strip()


def _math(formula: str) -> str:
    for command, symbol in _SYMBOLS.items():
        formula = formula.replace(command, symbol)
    formula = formula.replace("^", "").replace("_", "")
    return _COMMAND.sub("", formula).replace(" ", "")


def no_controls(text: str) -> str:
    """Text without control characters (NUL, escapes), which no card may hold."""
    return _CONTROL.sub("", text)


def sentences(text: str) -> list[str]:
    """The sentences of a plain text, in order."""
    found: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        piece = text[start : boundary.start() + len(boundary.group(0).rstrip())].strip()
        if _ABBREVIATIONS.search(piece):
            continue
        found.append(piece)
        start = boundary.end()
    tail = text[start:].strip()
    if tail:
        found.append(tail)
    return [s for s in found if s]


def one_line(sentence: str, limit: int = 200) -> str:
    """A sentence shortened to fit one line of a card: cut at a word, marked with ``…``."""
    sentence = _SPACES.sub(" ", sentence).strip()
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(",;: ") + "…"
