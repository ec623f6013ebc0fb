"""The deck as PDF: the HTML deck printed by a headless Chromium, when one is installed."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0


class NoChromium(RuntimeError):
    """PDF needs a Chromium (or Chrome) on this machine, and none is installed."""


class PrintFailed(RuntimeError):
    """Chromium ran but gave no PDF (it failed, or took longer than ``TIMEOUT``)."""


def find_chromium(chosen: str | None = None) -> str | None:
    """``chosen`` (``YOMIKAI_CHROMIUM``) if given, else the first Chromium or Chrome on the
    PATH."""
    if chosen:
        return shutil.which(chosen)
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


async def deck_pdf(html: str, chromium: str | None = None) -> bytes:
    """Print ``html`` to PDF, one slide a page; raises ``NoChromium`` when there is no browser."""
    browser = find_chromium(chromium)
    if browser is None:
        raise NoChromium(
            "PDF needs Chromium: install it (Debian/Ubuntu: apt install chromium; macOS: brew"
            " install --cask chromium) or set YOMIKAI_CHROMIUM to a Chrome's path; or export"
            " html and print it from a browser"
        )
    with tempfile.TemporaryDirectory(prefix="yomikai-deck-") as folder:
        page, out = Path(folder) / "deck.html", Path(folder) / "deck.pdf"
        page.write_text(html, encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            browser,
            "--headless",
            "--no-sandbox",  # (as root in containers and CI)
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder}/profile",
            f"--print-to-pdf={out}",
            page.as_uri(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, errors = await asyncio.wait_for(process.communicate(), TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise PrintFailed(f"Chromium did not print the deck within {TIMEOUT:g} s") from None
        if process.returncode != 0 or not out.exists():
            detail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise PrintFailed(f"Chromium could not print the deck: {detail[0]}")
        return out.read_bytes()
