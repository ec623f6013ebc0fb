"""Message catalogs: every sentence the bot says, in English and Japanese (locales/*.toml)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Phrase:
    """A part of a sentence still to be said in the listener's language: a parameter that is
    itself a catalog entry (``reason=Phrase("paper_id.no_id")``)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


def _said(locale: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: t(locale, v.key, **v.params) if isinstance(v, Phrase) else v for k, v in params.items()
    }


def t(locale: str, key: str, **params: Any) -> str:
    """The sentence ``key`` in ``locale`` with ``params`` filled in (English if unknown locale)."""
    table = catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    return table[key].format(**_said(locale, params))


def _as_written(text: str) -> str:
    return text


class Translator:
    """``t`` bound to one language, handed to code that speaks to one group.

    ``spell`` rewrites the command names a sentence mentions the way the asking platform lists
    them (on Discord organizers' subcommands sit under their own command); it is applied to the
    catalog's own words only, never to the parameters filled in.
    """

    def __init__(self, locale: str, spell: Callable[[str], str] = _as_written) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.spell = spell

    def __call__(self, key: str, **params: Any) -> str:
        table = catalog(self.locale)
        return self.spell(table[key]).format(**_said(self.locale, params))
