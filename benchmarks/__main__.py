"""``make bench``: every benchmark, one table, written to ``docs/benchmarks.md``.

    .venv/bin/python -m benchmarks            # all of them
    .venv/bin/python -m benchmarks 1 5        # only these numbers (the docs are not rewritten)

Each benchmark is a module ``benchmarks/b<NN>_<name>.py`` with ``run()`` (a coroutine
function or a plain one) that returns a ``Result``, or several when one measurement answers two
benchmarks. A benchmark whose own check fails (``WorkWrong``) is reported as failed and the
command exits non-zero; a missed target is reported, not raised.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import benchmarks
from benchmarks.machine import machine_line
from benchmarks.markdown import write_section
from benchmarks.report import Result, WorkWrong

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def modules() -> list[tuple[int, str]]:
    found = []
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("b") and info.name[1:3].isdigit():
            found.append((int(info.name[1:3]), info.name))
    return sorted(found)


def run_one(name: str) -> list[Result]:
    """Run one module; it hands back one ``Result`` or several (one burst, two benchmarks)."""
    module = importlib.import_module(f"benchmarks.{name}")
    started = time.monotonic()
    outcome = module.run()
    done = asyncio.run(outcome) if inspect.iscoroutine(outcome) else outcome
    results: list[Result] = done if isinstance(done, list) else [done]
    for result in results:
        result.seconds = time.monotonic() - started
    return results


def table(results: list[Result]) -> Table:
    shown = Table(title="Yomikai benchmarks", show_lines=False)
    for column in ("#", "what", "value", "baseline", "ratio", "target", "runs", ""):
        shown.add_column(column)
    for result in results:
        for n, figure in enumerate(result.figures):
            shown.add_row(str(result.number) if n == 0 else "", *figure.cells())
    return shown


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.ERROR)
    wanted = {int(a) for a in argv}
    console = Console()
    results: list[Result] = []
    failed: list[str] = []
    started = time.monotonic()
    for number, name in modules():
        if wanted and number not in wanted:
            continue
        console.print(f"[bold]benchmark {number}[/bold] ({name}) …")
        try:
            done = run_one(name)
        except WorkWrong as error:
            console.print(f"[bold red]benchmark {number} did the work wrong: {error}[/bold red]")
            failed.append(f"{number}: {error}")
            continue
        console.print(f"  done in {done[0].seconds:.0f} s")
        for text in (text for result in done for text in result.notes):
            console.print(f"  {text}")
        results.extend(done)
    total = time.monotonic() - started
    console.print(table(results))
    console.print(f"{machine_line()}; {total:.0f} s in all")
    if not wanted and not failed:
        write_section(DOCS, results, total)
        console.print(f"written to {DOCS}")
    if failed:
        console.print("[bold red]FAILED:[/bold red] " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
