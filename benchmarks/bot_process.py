"""``yomikai`` processes watched through their output: started, waited for, read and stopped.

A benchmark that measures the installed command (``.venv/bin/yomikai``) runs it here as a
subprocess, with its environment pointing every site at the fakes on 127.0.0.1 (or at a closed
port), and waits for the line it prints once it is up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.slack.slack_side import SECRET

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
SLACK_TOKEN = "xoxb-4830127645412-7264519830417-test"


def free_ports(count: int) -> list[int]:
    """``count`` different ports nothing listens on now (probed at once, so none repeats)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_port() -> int:
    return free_ports(1)[0]


def closed_port() -> str:
    """An address nothing listens on (a port this machine just gave out and took back)."""
    return f"http://127.0.0.1:{free_port()}"


def yomikai(*args: str) -> list[str]:
    """The installed ``yomikai`` command (``.venv/bin/yomikai``) with ``args``."""
    script = Path(sys.executable).with_name("yomikai")
    found = [str(script)] if script.exists() else [sys.executable, "-m", "adapters.cli"]
    return [*found, *args]


def offline_env(database_url: str, slack_api_url: str, **extra: str) -> dict[str, str]:
    """This environment without any Yomikai, Slack or Discord setting, plus a Slack bot in
    HTTP mode on ``slack_api_url`` and ``database_url``; every paper site at a closed port
    (``extra`` may point one at a fake instead)."""
    slack = {
        "YOMIKAI_DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_api_url,
        "YOMIKAI_HTTP_PORT": str(free_port()),
    }
    return offline() | slack | extra


def offline() -> dict[str, str]:
    """This environment without any Yomikai, Slack or Discord setting, every paper site at a
    closed port: a ``yomikai run`` that can reach nothing but what it is pointed at."""
    nowhere = closed_port()
    kept = {
        k: v for k, v in os.environ.items() if not k.startswith(("YOMIKAI_", "SLACK_", "DISCORD_"))
    }
    sites = ("ARXIV_API", "HF_API", "PWC_API", "ARXIV_HTML", "AR5IV")
    return kept | {f"YOMIKAI_{site}_URL": nowhere for site in sites} | {"NO_PROXY": "127.0.0.1"}


def rss_kib(pid: int) -> int:
    """The resident set of process ``pid`` (``VmRSS``, kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time process ``pid`` has used so far (all its threads)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def parent_of(pid: int) -> int:
    return int(_stat(pid)[1])


def family_cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` and all its children, those still running and those it
    has waited for (a PostgreSQL server: the postmaster and every backend)."""
    fields = _stat(pid)
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(pid):
            try:
                child = _stat(int(entry.name))
            except (OSError, IndexError):
                continue  # (gone meanwhile)
            if child[1] == str(pid):
                ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (``/proc/stat``)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    rate = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / rate, sum(ticks) / rate


class Running:
    """One subprocess, its output (standard output and error together) kept as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, command: list[str], env: dict[str, str], cwd: Path, up: str) -> Running:
        """Start ``command`` and return once it printed a line holding ``up``."""
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        running = cls(process)
        try:
            await asyncio.wait_for(running._until(up), START_TIMEOUT)
        except BaseException:
            await running.stop()
            raise
        running._reader = asyncio.create_task(running._read(None))
        return running

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def said(self, lines: int = 30) -> str:
        return "".join(self.output[-lines:])

    async def _until(self, up: str) -> None:
        await self._read(up)
        if not any(up in line for line in self.output):
            raise RuntimeError(f"{self.process.pid} ended before it was up:\n{self.said()}")

    async def _read(self, up: str | None) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode(errors="replace"))
            if up is not None and up in self.output[-1]:
                return

    async def stop(self) -> int:
        """SIGTERM (the bot finishes what it acknowledged), SIGKILL if that takes too long;
        the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            await self._reader
        else:
            await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode
