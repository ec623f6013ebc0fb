"""Message catalogs: every sentence the bot says, in English and Japanese (locales/*.toml)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
_LOCALE_DIR = Path(__file__).parent / "locales"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(locale: str) -> dict[str, str]:
    """The flat ``key → template`` catalog of one language."""
    with (_LOCALE_DIR / f"{locale}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def t(locale: str, key: str, **params: Any) -> str:
    """The sentence ``key`` in ``locale`` with ``params`` filled in (English if unknown locale)."""
    table = catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    return table[key].format(**params)


class Translator:
    """``t`` bound to one language, handed to code that speaks to one group."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE

    def __call__(self, key: str, **params: Any) -> str:
        return t(self.locale, key, **params)
