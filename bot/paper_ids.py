"""Find the one arXiv paper id in whatever text or link people paste into chat."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.i18n import Phrase, t

_MAX_INPUT_CHARS = 2000

# Archives that old-style (pre-2007) ids such as "hep-th/9901001" may name.
_ARCHIVES = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
        "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an",
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th",
        "nlin", "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio",
        "q-fin", "quant-ph", "solv-int", "stat", "supr-con",
    }
)  # fmt: skip

# Every pattern is used with fullmatch on one whitespace-free token and has no nested or
# overlapping repetition, so matching is linear in the token length.
_FLAGS = re.IGNORECASE | re.ASCII
_ID = (
    r"(?:(?P<new>\d{4}\.\d{4,5})"
    r"|(?P<arch>[a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2,}(?:-[a-z]{2,})?)?/(?P<old>\d{7}))"
    r"(?:v(?P<ver>\d{1,3}))?"
)
_BARE = re.compile(rf"(?:arxiv:|(?:doi:)?10\.48550/arxiv\.)?{_ID}", _FLAGS)
_URL = re.compile(
    r"(?:https?://)?(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d{1,5})?(?P<path>/[^?#]*)?(?:[?#].*)?",
    _FLAGS | re.DOTALL,
)
_ARXIV_PATH = re.compile(rf"/(?:abs|pdf|html)/{_ID}(?:\.pdf)?/?", _FLAGS)
_ALPHAXIV_PATH = re.compile(rf"/(?:abs|overview|pdf)/{_ID}/?", _FLAGS)
_DOI_PATH = re.compile(rf"/10\.48550/arxiv\.{_ID}/?", _FLAGS)
_HOSTS: dict[str, re.Pattern[str]] = {
    "arxiv.org": _ARXIV_PATH,
    "www.arxiv.org": _ARXIV_PATH,
    "export.arxiv.org": _ARXIV_PATH,
    "alphaxiv.org": _ALPHAXIV_PATH,
    "www.alphaxiv.org": _ALPHAXIV_PATH,
    "huggingface.co": re.compile(rf"/papers/{_ID}/?", _FLAGS),
    "doi.org": _DOI_PATH,
    "dx.doi.org": _DOI_PATH,
}
# Slack wraps links as <url|label>; Markdown as [label](url).
_PARTS = re.compile(r"\||\]\(")
# Wrapping and trailing punctuation around a pasted token, plus invisible characters.
_STRIP = "<>()[]{}\"'`*_~.,;:!?\u200b\u200c\u200d\u2060\ufeff"


@dataclass(frozen=True)
class PaperId:
    """An arXiv paper: canonical id without version, and the version if one was given."""

    canonical: str
    version: int | None

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.canonical}"


class PaperIdError(ValueError):
    """Raised for text that holds no arXiv id.

    ``reason`` says why in the listener's language (``paper_id.<key>`` of the catalogs); str(err)
    is the English one. Neither echoes the input.
    """

    def __init__(self, key: str, **params: Any) -> None:
        self.reason = Phrase(f"paper_id.{key}", params)
        super().__init__(t("en", self.reason.key, **params))


def _build(m: re.Match[str]) -> PaperId | str:
    """A PaperId from a match of _ID, or the key of the reason it is no real arXiv id."""
    version = int(m["ver"]) if m["ver"] else None
    if version == 0:
        return "version_zero"
    if m["new"]:
        if not 1 <= int(m["new"][2:4]) <= 12:
            return "month_new"
        if int(m["new"][:2]) < 7:
            return "too_early"
        return PaperId(m["new"], version)
    archive = m["arch"].lower()
    if archive not in _ARCHIVES:
        return "unknown_archive"
    if not 1 <= int(m["old"][2:4]) <= 12:
        return "month_old"
    return PaperId(f"{archive}/{m['old']}", version)


def _scan(token: str) -> PaperId | str | None:
    """The paper a token names, the key of why it names none though it looks so, or None."""
    if m := _BARE.fullmatch(token):
        return _build(m)
    url = _URL.fullmatch(token)
    if url is None or not url["path"]:
        return None
    path_pattern = _HOSTS.get(url["host"].lower())
    if path_pattern is None:
        return "other_site"
    m = path_pattern.fullmatch(url["path"])
    return _build(m) if m else "not_a_paper_link"


def parse_paper_id(text: str) -> PaperId:
    """The single arXiv paper named in text (bare id, arXiv:, DOI or a known site's link)."""
    if len(text) > _MAX_INPUT_CHARS:
        raise PaperIdError("too_long", limit=_MAX_INPUT_CHARS)
    if not text.strip():
        raise PaperIdError("empty")
    versions: dict[str, set[int | None]] = {}
    reason: str | None = None
    for word in text.split():
        for part in _PARTS.split(word):
            found = _scan(part.strip(_STRIP))
            if isinstance(found, PaperId):
                versions.setdefault(found.canonical, set()).add(found.version)
            elif found is not None and reason is None:
                reason = found
    if not versions:
        raise PaperIdError(reason or "no_id")
    if len(versions) > 1:
        raise PaperIdError("two_papers")
    ((canonical, seen),) = versions.items()
    explicit = seen - {None}
    if len(explicit) > 1:
        raise PaperIdError("two_versions")
    return PaperId(canonical, explicit.pop() if explicit else None)
