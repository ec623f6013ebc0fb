"""The bundled catalog: real arXiv papers read from ``catalog/`` (see ``catalog/README.md``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

_ENTRY = re.compile(r"  <entry>\n.*?\n  </entry>\n", re.DOTALL)
_VERSIONED = re.compile(r"^(?P<id>.+?)(?:v(?P<version>\d+))?$")


@dataclass(frozen=True)
class DemoPaper:
    """One paper as arXiv describes it (text verbatim), with its LaTeXML author block."""

    arxiv_id: str
    version: int | None
    """None when the catalog pins no version (the entry's id then has none)."""
    title: str
    authors: tuple[str, ...]
    abstract: str
    published: str
    """As the Atom feed writes it: ``2022-04-14T14:55:47Z``."""
    updated: str
    primary_category: str
    categories: tuple[str, ...]
    author_block: str
    """The ``<div class="ltx_authors">`` element of the paper's HTML."""
    atom_entry: str | None
    """The captured ``<entry>`` of arXiv's answer, served as it is (None: built from the rest)."""

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}" if self.version else self.arxiv_id


@dataclass(frozen=True)
class Catalog:
    papers: Mapping[str, DemoPaper]
    """By canonical arXiv id, in the catalog's order."""
    daily_papers: tuple[dict[str, Any], ...]
    """Hugging Face ``daily_papers`` items for the catalog's papers, most upvoted first."""

    def __iter__(self) -> Iterator[DemoPaper]:
        return iter(self.papers.values())

    def __len__(self) -> int:
        return len(self.papers)

    def find(self, paper: str) -> DemoPaper | None:
        """The paper an id names (``2204.06974`` or its catalog version ``2204.06974v2``)."""
        match = _VERSIONED.match(paper.strip())
        if match is None:
            return None
        found = self.papers.get(match["id"])
        version = match["version"]
        if found is None or (version is not None and int(version) != found.version):
            return None  # the catalog has one version of each paper
        return found


def _root() -> Traversable:
    return files("adapters.demo") / "catalog"


def _paper(record: dict[str, Any], root: Traversable) -> DemoPaper:
    arxiv_id = record["arxiv_id"]
    name = arxiv_id.replace("/", "_")
    atom = root / "arxiv" / f"{name}.xml"
    entry = None
    if atom.is_file():
        (entry,) = _ENTRY.findall(atom.read_text(encoding="utf-8"))
    return DemoPaper(
        arxiv_id=arxiv_id,
        version=record["version"],
        title=record["title"],
        authors=tuple(record["authors"]),
        abstract=record["abstract"],
        published=record["published"],
        updated=record["updated"],
        primary_category=record["primary_category"],
        categories=tuple(record["categories"]),
        author_block=(root / "html" / f"{name}.html").read_text(encoding="utf-8"),
        atom_entry=entry,
    )


@cache
def load_catalog() -> Catalog:
    """The bundled catalog (read once; it is package data, so an installed wheel has it)."""
    root = _root()
    records = json.loads((root / "papers.json").read_text(encoding="utf-8"))
    papers = {record["arxiv_id"]: _paper(record, root) for record in records}
    items = json.loads((root / "hf" / "daily_papers.json").read_text(encoding="utf-8"))
    daily = tuple(item for item in items if item["paper"]["id"] in papers)
    return Catalog(papers=papers, daily_papers=daily)
