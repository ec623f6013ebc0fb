"""The session as a deck: Marp Markdown, self-contained HTML shown in a real headless Chromium,
and PDF; hostile text escaped in every format."""

from __future__ import annotations

import asyncio
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from adapters.cli import main
from bot.core import Yomikai
from bot.deck.html import deck_html
from bot.deck.marp import deck_markdown
from bot.deck.pdf import deck_pdf, find_chromium
from bot.deck.slides import Deck, find_session, session_deck
from bot.messages import Agenda
from storage.db import Database
from tests.discord_adapter.test_discord_limits import retitle
from tests.fakes.chat import FakeChat
from tests.fakes.drafting import drafting
from tests.fakes.model_server import FakeModel
from tests.fakes.paper_sites import FakePaperSites

pytestmark = pytest.mark.timeout(120)

HOSTILE = (
    "</script><img src=x onerror=alert(1)> ## Heading\n---\n[x](javascript:alert(1)) "
    "@everyone <!-- ```"
)


async def a_session(
    chat: FakeChat, sites: FakePaperSites, model: FakeModel | None, language: str
) -> Agenda:
    drafting(chat.core, sites, model)
    await chat.say("alice", f"/yomikai setup papers 2 language {language} timezone Asia/Tokyo")
    await chat.say("alice", '/yomikai setup name "ML reading group"')
    for user in ("alice", "bob"):
        await chat.say(user, "/yomikai join")
    await chat.say("carol", "/nominate 2203.15556")
    await chat.say("dave", "/nominate 2203.14465")
    await chat.say("alice", "/yomikai open")
    (agenda,) = chat.only(await chat.say("alice", "/yomikai close"), Agenda)
    assert chat.core.drafts is not None and await chat.core.drafts.pass_once() == 2
    return agenda


def the_deck(db: Database) -> Deck:
    with db.session(read_only=True) as session:
        group, reading = find_session(session, None, None)
        return session_deck(session, group, reading)


async def test_the_markdown_deck_is_marp_and_escapes_everything(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, db: Database
) -> None:
    await a_session(chat, paper_sites, None, "en")
    retitle(db, "2203.15556", HOSTILE)
    deck = the_deck(db)
    markdown = deck_markdown(deck)
    front, body = markdown.split("\n---\n", 1)[0], markdown.split("\n---\n\n", 1)[1]
    assert front.startswith("---\nmarp: true\npaginate: true\nlang: en")
    slides = body.split("\n\n---\n\n")
    assert len(slides) == 2 + len(deck.slides)
    assert slides[0].startswith("# ML reading group · 2026-12-09")
    assert "17:00 (Asia/Tokyo)" in slides[0]
    agenda = slides[1]
    assert "nominated by carol" in agenda and "nominated by dave" in agenda
    # The hostile title opens no tag, no link, no heading, no slide; it pings nobody.
    assert "<img" not in markdown and "</script>" not in markdown and "<!--" not in markdown
    assert "[x](javascript:" not in markdown and "\\[x\\]" in markdown
    assert "@everyone" not in markdown and "```" not in markdown
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert all("Heading" not in line.split("##", 1)[0] for line in headings)
    assert not any(line.strip() == "---" for line in body.split("\n\n---\n\n")[2].splitlines())
    fields = next(s for s in slides if "Model name" in s)
    assert "**Model name (draft)**: Chinchilla" in fields or "STaR" in fields


async def test_the_html_deck_is_one_file_and_nothing_runs_from_a_title(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, db: Database
) -> None:
    await a_session(chat, paper_sites, None, "en")
    retitle(db, "2203.15556", HOSTILE)
    page = deck_html(the_deck(db))
    assert page.count("<script>") == 1 and page.count("</script>") == 1
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append((tag, attrs))

    parser = Tags()
    parser.feed(page)
    tags = {tag for tag, _ in parser.seen}
    allowed = {"html", "head", "meta", "title", "style", "body", "main", "section", "h1", "h2"}
    allowed |= {"h3", "p", "a", "div", "table", "tr", "th", "td", "script"}
    assert tags <= allowed, tags
    attributes = {name for _, attrs in parser.seen for name, _ in attrs}
    assert not any(name.startswith("on") or name == "src" for name in attributes)
    links = [value for tag, attrs in parser.seen if tag == "a" for name, value in attrs]
    assert links and all(str(link).startswith("https://arxiv.org/abs/") for link in links)
    assert sum(tag == "section" for tag, _ in parser.seen) == 2 + len(the_deck(db).slides)


def chromium_or_skip() -> str:
    found = find_chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (make test installs Debian's chromium)")
        pytest.skip("NO CHROMIUM: the deck's browser test did not run (apt install chromium)")
    return found


async def test_the_deck_in_a_real_browser(
    core: Yomikai,
    chat: FakeChat,
    paper_sites: FakePaperSites,
    fake_model: FakeModel,
    db: Database,
    tmp_path: Path,
) -> None:
    """Headless Chromium: the arrow keys move, the counter counts, a card's fields and the
    Japanese text are on screen, and no slide's content overflows it."""
    browser_path = chromium_or_skip()
    from playwright.async_api import async_playwright

    await a_session(chat, paper_sites, fake_model, "ja")
    deck = the_deck(db)
    total = 2 + len(deck.slides)
    file = tmp_path / "deck.html"
    file.write_text(deck_html(deck), encoding="utf-8")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browser_path, args=["--no-sandbox"]
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(file.as_uri())
        counter = page.locator("#counter")
        assert await counter.inner_text() == f"1 / {total}"
        assert "ML reading group・2026-12-09" in await page.locator("section.current").inner_text()
        await page.keyboard.press("ArrowRight")
        assert await counter.inner_text() == f"2 / {total}"
        agenda = await page.locator("section.current").inner_text()
        assert "アジェンダ" in agenda and "carol さんの推薦" in agenda
        await page.keyboard.press("ArrowLeft")
        assert await counter.inner_text() == f"1 / {total}"
        shown: list[str] = []
        for number in range(1, total + 1):
            if number > 1:
                await page.keyboard.press("ArrowRight")
            assert await counter.inner_text() == f"{number} / {total}"
            sizes = await page.evaluate(
                "() => { const s = document.querySelector('section.current');"
                " return [s.scrollHeight, s.clientHeight, s.scrollWidth, s.clientWidth]; }"
            )
            assert sizes[0] <= sizes[1] + 1 and sizes[2] <= sizes[3] + 1, (number, sizes)
            shown.append(await page.locator("section.current").inner_text())
        await page.keyboard.press("ArrowRight")  # past the end: stays on the last
        assert await counter.inner_text() == f"{total} / {total}"
        await page.keyboard.press("f")  # full screen (refused headless): no error either way
        everything = "\n".join(shown)
        assert "要旨の全文を日本語に訳したものです。" in everything  # the translated abstract
        assert "モデル名（下書き）" in everything and "目的を日本語で述べます。" in everything
        assert "発表者" in everything
        assert errors == []
        await browser.close()


async def test_the_pdf_has_a_page_per_slide(
    core: Yomikai, chat: FakeChat, paper_sites: FakePaperSites, db: Database
) -> None:
    chromium_or_skip()
    await a_session(chat, paper_sites, None, "en")
    deck = the_deck(db)
    pdf = await deck_pdf(deck_html(deck))
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages == 2 + len(deck.slides)


async def test_yomikai_export_writes_the_file(
    core: Yomikai,
    chat: FakeChat,
    paper_sites: FakePaperSites,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await a_session(chat, paper_sites, None, "en")
    monkeypatch.setenv("YOMIKAI_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)

    def export(*words: str) -> int:  # (the command line runs its own event loop)
        return main(["export", *words])

    assert await asyncio.to_thread(export, "--format", "md") == 0
    written = tmp_path / "yomikai-2026-12-09.md"
    assert written.read_text("utf-8").startswith("---\nmarp: true")
    assert (
        await asyncio.to_thread(
            export, "--session", "2026-12-09", "--format", "html", "-o", "d.html"
        )
        == 0
    )
    assert (tmp_path / "d.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    assert await asyncio.to_thread(export, "--session", "2027-01-01") == 2
    assert "no session on 2027-01-01 (sessions: 2026-12-09)" in capsys.readouterr().err
    monkeypatch.setenv("YOMIKAI_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert await asyncio.to_thread(export, "--format", "pdf") == 2
    assert "PDF needs Chromium: install it" in capsys.readouterr().err
