"""The message catalogs: the same keys and placeholders in every language, and every key used."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import LOCALES, Translator, catalog, placeholders, t
from bot.messages import CARD_EXTRAS, CARD_FIELDS
from bot.registry import COMMANDS, spelling

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
