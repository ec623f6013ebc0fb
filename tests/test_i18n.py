"""The message catalogs: the same keys and placeholders in every language, and every key used."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text

from adapters.console.render import render as console_render
from adapters.slack.render import render as slack_render
from bot.i18n import LOCALES, Translator, catalog, placeholders, t
from bot.messages import CARD_EXTRAS, CARD_FIELDS
from bot.registry import COMMANDS, spelling
from storage.db import Database
from tests.fakes.chat import FakeChat

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != "en"])
def test_same_keys_as_english(locale: str) -> None:
    english, other = catalog("en"), catalog(locale)
    assert sorted(set(english) - set(other)) == [], f"missing in {locale}"
    assert sorted(set(other) - set(english)) == [], f"only in {locale}"


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != "en"])
def test_same_placeholders_as_english(locale: str) -> None:
    english, other = catalog("en"), catalog(locale)
    differing = {
        key: (placeholders(english[key]), placeholders(other[key]))
        for key in english.keys() & other.keys()
        if placeholders(english[key]) != placeholders(other[key])
    }
    assert differing == {}


def test_every_key_the_code_uses_exists() -> None:
    used: set[str] = set()
    pattern = re.compile(
        r"""(?:tr|\bt\(\s*\w+|UserError)\(?\s*,?\s*f?["']([a-z_]+\.[a-z_.{}]+)["']"""
    )
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("adapters/**/*.py")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    concrete = {key for key in used if "{" not in key}
    assert concrete, "the scan found no keys: the pattern is broken"
    assert sorted(concrete - set(catalog("en"))) == []
    dynamic = {f"help.{spec.path.replace(' ', '_')}" for spec in COMMANDS}
    dynamic |= {
        f"{part}.{spec.path.replace(' ', '_')}"
        for spec in COMMANDS
        for part in ("usage", "example")
    }
    dynamic |= {f"card.{key}" for key in CARD_FIELDS + CARD_EXTRAS}
    dynamic |= {"nominate.added", "nominate.supported", "vote.added", "vote.removed"}
    assert sorted(dynamic - set(catalog("en"))) == []


def test_japanese_card_fields() -> None:
    labels = [t("ja", f"card.{key}") for key in CARD_FIELDS]
    assert labels == ["目的", "成果", "方法", "モデル名", "著者所属"]


def test_unknown_locale_falls_back_to_english() -> None:
    assert t("fr", "help.title") == t("en", "help.title")


@pytest.mark.parametrize("locale", LOCALES)
def test_organizer_commands_respelled_in_the_bots_words_only(locale: str) -> None:
    tr = Translator(locale, spelling("yomikai-admin"))
    # The catalog's own words name the organizer command where the platform lists it …
    assert "/yomikai-admin setup" in tr("group.not_set_up")
    only = tr("organizer.only")
    assert "/yomikai-admin organizer" in only and "/yomikai status" in only
    # … while members' subcommands and text from users are left exactly as written.
    assert "/yomikai take 3" in tr("slot.now_open", number=3)
    said = tr("command.unknown", name="yomikai open")
    assert "/yomikai open" in said and "/yomikai-admin" not in said
    # Where organizers' subcommands stay under /yomikai (Slack, console), nothing changes.
    assert Translator(locale, spelling("yomikai"))("group.not_set_up") == t(
        locale, "group.not_set_up"
    )


def _texts(value: object) -> list[str]:
    """The ``text`` strings of Slack blocks, at any depth."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def _words(texts: list[str]) -> set[str]:
    return {w.lower() for text in texts for w in re.findall(r"[A-Za-z]{3,}", text)}


JAPANESE_WEEK = [
    ("alice", "/yomikai setup language ja papers 2 timezone Asia/Tokyo"),
    ("alice", "/yomikai help"),
    ("alice", "/yomikai join"),
    ("bob", "/yomikai join"),
    ("alice", "/nominate 2204.06974 面白い"),
    ("carol", "/nominate 2204.00598"),
    ("bob", "/nominate 2204.00598"),
    ("bob", "/nominate 2213.00001"),
    ("bob", "/nominate https://example.com/abs/2204.06974"),
    ("bob", "/nominate"),
    ("alice", "/yomikai open"),
    ("bob", "/candidates"),
    ("bob", "/vote 1 2"),
    ("bob", "/vote 9"),
    ("bob", "/vote x"),
    ("bob", "/vote -1"),
    ("bob", "/yomikai status"),
    ("alice", "/yomikai schedule"),
    ("alice", "/yomikai close"),
    ("alice", "/presenters"),
    ("bob", "/card 2 purpose: 目的です results: 成果です"),
    ("bob", "/card 2 colour: blue"),
    ("bob", "/card 1 purpose: x"),
    ("bob", "/summary 2"),
    ("bob", "/summary 7"),
    ("bob", "/summary 1 someday"),
    ("bob", "/search 論文"),
    ("bob", "/search"),
    ("bob", "/search 光合成"),
    ("bob", "/yomikai history"),
    ("bob", "/yomikai history @nobody"),
    ("bob", "/yomikai away 2020-01-01"),
    ("bob", "/yomikai away 2026-12-24 2026-12-31"),
    ("bob", "/yomikai back"),
    ("alice", "/yomikai assign 1 @nobody"),
    ("alice", "/yomikai organizer @everyone"),
    ("alice", "/yomikai setup timezone localtime"),
    ("alice", "/yomikai swap 1 1"),
    ("alice", "/yomikai remind"),
    ("alice", "/yomikai meet"),
    ("alice", "/yomikai export"),
    ("alice", "/yomikai jion"),
    ("bob", "/yomikai open"),
]


async def test_a_japanese_group_hears_no_english(chat: FakeChat, db: Database) -> None:
    """Every reply, post and table a Japanese group sees, through the console and Slack
    renderings, holds no English word of the catalog (its command words excepted)."""
    await chat.say("alice", "/nominate 2204.06974")  # (before setup: refused, nothing stored)
    for user, line in JAPANESE_WEEK[:1]:
        await chat.say(user, line)
    await chat.say("alice", "/nominate 2204.06974")
    await chat.say("bob", "/nominate 2204.00598")
    with db.session() as session:  # the papers' own words are not the bot's: make them Japanese
        session.execute(
            text("UPDATE paper SET title = '論文', abstract = '概要。', authors = '[\"著者\"]'")
        )
        session.commit()
    drawn: list[str] = []
    for user, line in JAPANESE_WEEK[1:]:
        before = len(chat.announced)
        reply = await chat.say(user, line)
        messages = [*reply.public, *reply.private, *(s.message for s in chat.announced[before:])]
        assert messages, line
        for message in messages:
            out = Console(file=io.StringIO(), width=200, color_system=None)
            out.print(console_render(message))
            drawn.append(out.file.getvalue())
            slack = slack_render(message)
            drawn += [slack.text, *_texts(slack.blocks)]
    commands = r"https?://\S+|<[^>]*>|`[^`]*`|/[a-z-]+(?: [a-z_]+)?|@\w+|\[[a-z|]+\]|\w+/\w+"
    shown = re.sub(commands, " ", "\n".join(drawn))  # (what is typed stays as typed)
    english = _words(list(catalog("en").values())) - _words(list(catalog("ja").values()))
    english -= {"alice", "bob", "nobody", "colour", "blue", "someday", "jion", "localtime"}
    leaked = sorted(_words([shown]) & english)
    context = [
        shown[max(0, m.start() - 60) : m.end() + 20]
        for word in leaked[:5]
        if (m := re.search(rf"(?<![A-Za-z]){word}(?![A-Za-z])", shown, re.IGNORECASE))
    ]
    assert leaked == [], context
