"""The machine a run was measured on: cores, memory, date, Python."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def memory_gib() -> float:
    """Total memory from ``/proc/meminfo`` (0 where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_line() -> str:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return (
        f"{cores()} cores, {memory_gib():.0f} GiB, Python {platform.python_version()},"
        f" {platform.system()} {platform.machine()}, {today}"
    )
