"""The generated part of ``docs/benchmarks.md``: the last full run's table, between markers.

Everything outside the markers is written by hand (what each benchmark measures, what was
found and changed) and kept as it is.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.machine import machine_line
from benchmarks.report import Result

BEGIN = "<!-- make bench: begin (generated; edit outside these markers) -->"
END = "<!-- make bench: end -->"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def section(results: list[Result], total: float) -> str:
    lines = [
        BEGIN,
        f"Last full run: {machine_line()}; {total:.0f} s in all.",
        "",
        "| # | what | value | baseline | ratio | target | runs | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for n, figure in enumerate(result.figures):
            number = f"{result.number}" if n == 0 else ""
            cells = (number, *figure.cells())
            lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    notes = [(r.number, text) for r in results for text in r.notes]
    if notes:
        lines.append("")
        lines.extend(f"- {number}: {cell(text)}" for number, text in notes)
    lines.append(END)
    return "\n".join(lines)


def write_section(path: Path, results: list[Result], total: float) -> None:
    """Replace the generated section of ``path`` (or add it after the first paragraph)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    new = section(results, total)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + new + tail
    else:
        head, sep, tail = text.partition("\n\n")
        text = head + sep + new + "\n\n" + tail if sep else text + "\n" + new + "\n"
    path.write_text(text, encoding="utf-8")
