"""A pytest plugin: what the property tests tried, written to ``docs/reliability.md``.

``tests/test_properties.py`` records each example as (path, input class, outcome). When the
whole set ran and passed (every path, both engines: ``make test``), the table between the markers
of ``docs/reliability.md`` is rewritten from those counts, so it is never written by hand. The
examples are derandomized, so the same code gives the same table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

PATHS = ("core, SQLite", "core, PostgreSQL", "Slack HTTP, signed", "Discord interactions")
OUTCOMES = ("answered", "refused")
"""``answered``: the command did what it says (a notice or a post); ``refused``: a clear problem
with nothing stored. Anything else (a traceback, a 5xx, a ping, a raw control character, a change
a refusal made) fails the test, so it is never counted."""
REPORT = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
START, END = "<!-- input-table:start -->", "<!-- input-table:end -->"

_counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)


class Recorder:
    def __init__(self, path: str) -> None:
        assert path in PATHS, path
        self.path = path

    def record(self, input_class: str, outcome: str) -> None:
        assert outcome in OUTCOMES, outcome
        _counts[self.path, input_class][outcome] += 1


def recorder(path: str) -> Recorder:
    return Recorder(path)


def table() -> str:
    classes = sorted({input_class for _, input_class in _counts})
    lines = [
        "| input class | " + " | ".join(PATHS) + " |",
        "|---|" + "---|" * len(PATHS),
    ]
    for input_class in classes:
        cells = []
        for path in PATHS:
            seen = _counts.get((path, input_class), Counter())
            total = sum(seen.values())
            cells.append(
                f"{total}: {seen['answered']} answered, {seen['refused']} refused" if total else "—"
            )
        lines.append(f"| {input_class} | " + " | ".join(cells) + " |")
    totals = [sum(sum(c.values()) for (p, _), c in _counts.items() if p == path) for path in PATHS]
    lines.append("| **all** | " + " | ".join(f"**{n}**" for n in totals) + " |")
    return "\n".join(lines)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    paths = {path for path, _ in _counts}
    if exitstatus != 0 or paths != set(PATHS) or not REPORT.exists():
        return  # a partial or failed run says nothing about the whole
    text = REPORT.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    REPORT.write_text(f"{head}{START}\n{table()}\n{END}{tail}", encoding="utf-8")
