"""The bot and its floors as real processes on 127.0.0.1, for the benchmarks.

``yomikai_run`` starts the installed ``yomikai run`` (Slack in HTTP mode on a chosen port, every
paper site that the environment does not name at a closed port, so nothing leaves the machine);
``python_module`` starts a floor (``python -m benchmarks.bare_slack …``). ``Server.ready`` waits
until the port answers, ``cpu_seconds`` reads the process's CPU time from ``/proc``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import web

from benchmarks.bot_process import cpu_seconds, free_ports, offline, yomikai
from benchmarks.report import WorkWrong

__all__ = ["Server", "free_ports", "python_module", "serve", "yomikai_run"]

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


class Server:
    """One process serving HTTP on ``port``; its output goes to ``folder/<name>.log``."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        port: int,
        folder: Path,
        cwd: Path = ROOT,
        up: str = "",
    ) -> None:
        self.port = port
        self.up = up
        """A line the process prints once it is fully started (the port may open earlier)."""
        self.log = folder / f"{Path(command[0]).name}-{port}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, timeout: float = START_TIMEOUT) -> None:
        """Return once the port takes connections and the process said it is up (``up``);
        fail with the log if the process ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WorkWrong(f"{self.log.name} ended:\n{self.log.read_text()[-3000:]}")
            if self.up not in self.log.read_text(errors="replace"):
                await asyncio.sleep(0.1)
                continue
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise WorkWrong(f"{self.log.name} did not start:\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far."""
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve ``app`` (a fake) on a free port of 127.0.0.1 in this process: (runner, base URL)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def python_module(module: str, args: list[str], port: int, folder: Path) -> Server:
    """``python -m module args…`` serving on ``port``."""
    return Server([sys.executable, "-m", module, *args], dict(os.environ), port, folder)


def yomikai_run(env: dict[str, str], port: int, folder: Path) -> Server:
    """The installed ``yomikai run`` with ``env`` over this environment, Slack HTTP on ``port``.

    It runs in ``folder`` (no ``.env`` of the checkout is read) and logs there.
    """
    command = yomikai("run")
    own = {"YOMIKAI_HTTP_PORT": str(port), "YOMIKAI_LOG_FILE": str(folder / "yomikai.log")}
    up = "Yomikai is running"  # (printed once every adapter and the scheduler started)
    return Server(command, offline() | own | env, port, folder, cwd=folder, up=up)
