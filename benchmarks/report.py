"""What a benchmark hands back: figures beside their baselines, and a check of its own work.

A benchmark measures the bot and its floor in the same run (these machines are noisy, so a
ratio is what counts; absolute times only give the scale). ``Figure`` is one line of the
table; ``Result`` is one benchmark's lines and notes. ``check`` fails the benchmark loudly
when the work it measured was wrong (a vote lost, a card missing): a fast wrong answer is no
figure at all.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


class WorkWrong(RuntimeError):
    """The benchmark's own check failed: what it measured did not do the work."""


def check(condition: bool, message: str) -> None:
    """Raise ``WorkWrong(message)`` unless ``condition`` holds."""
    if not condition:
        raise WorkWrong(message)


@dataclass(frozen=True)
class Figure:
    """One line of the table: what was measured, its baseline, their ratio and the target.

    ``ratio`` and ``limit`` make the verdict (``ratio <= limit``); ``met`` overrides it for
    targets that are not ratios (a count, a bound). ``runs`` is how many measurements the
    figure summarises.
    """

    what: str
    value: str
    baseline: str = "—"
    ratio: float | None = None
    limit: float | None = None
    target: str = ""
    runs: int = 1
    met: bool | None = None

    @property
    def verdict(self) -> bool | None:
        if self.met is not None:
            return self.met
        if self.ratio is not None and self.limit is not None:
            return self.ratio <= self.limit
        return None

    @property
    def ratio_text(self) -> str:
        return "—" if self.ratio is None else f"{self.ratio:.2f}×"

    @property
    def verdict_text(self) -> str:
        return {True: "met", False: "MISSED", None: "—"}[self.verdict]

    def cells(self) -> tuple[str, ...]:
        """The table's columns after the benchmark's number."""
        return (
            self.what,
            self.value,
            self.baseline,
            self.ratio_text,
            self.target,
            str(self.runs),
            self.verdict_text,
        )


@dataclass
class Result:
    """One benchmark: its number and title as in the issue, its figures and notes."""

    number: int
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def note(self, text: str) -> None:
        self.notes.append(text)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile, nearest rank (p99 of 1,000 is the 990th value)."""
    ordered = sorted(values)
    check(bool(ordered), "no measurements")
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(p50, p99, max) of ``values``."""
    return statistics.median(values), percentile(values, 0.99), max(values)
