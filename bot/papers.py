"""The paper catalog: arXiv metadata cached in the database, fetched only for unknown papers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlmodel import col, select

from bot.cleaning import clean
from bot.errors import UserError
from bot.sources import PaperMetadata, SourceUnavailable
from storage.db import Database
from storage.models import Paper
from storage.queries import insert_ignore


class PaperSource(Protocol):
    async def fetch(self, arxiv_ids: Sequence[str]) -> dict[str, PaperMetadata]: ...


class PaperCatalog:
    """Looks papers up in the database first; asks the source (arXiv) only for the rest."""

    def __init__(self, db: Database, source: PaperSource) -> None:
        self.db = db
        self.source = source

    def _known(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        with self.db.session() as session:
            rows = session.exec(
                select(Paper.arxiv_id, Paper.id).where(col(Paper.arxiv_id).in_(list(arxiv_ids)))
            )
            return {arxiv_id: paper_id for arxiv_id, paper_id in rows if paper_id is not None}

    async def remember(self, papers: Sequence[PaperMetadata], fetched_at: datetime) -> None:
        """Store metadata a source already gave us (a known paper is left as it is)."""
        if papers:
            await asyncio.to_thread(self._store, papers, fetched_at)

    def _store(self, papers: Sequence[PaperMetadata], fetched_at: datetime) -> dict[str, int]:
        with self.db.session() as session:
            for meta in papers:
                insert_ignore(session, Paper, _row(meta, fetched_at), ("arxiv_id",))
        return self._known([meta.arxiv_id for meta in papers])

    async def ensure(self, arxiv_ids: Sequence[str], fetched_at: datetime) -> dict[str, int]:
        """Paper row ids for the ids arXiv knows; raises ``UserError`` when arXiv is down."""
        known = await asyncio.to_thread(self._known, arxiv_ids)
        missing = [arxiv_id for arxiv_id in arxiv_ids if arxiv_id not in known]
        if not missing:
            return known
        try:
            fetched = await self.source.fetch(missing)
        except SourceUnavailable:
            raise UserError("source.unavailable", show_usage=False) from None
        stored = await asyncio.to_thread(self._store, list(fetched.values()), fetched_at)
        return known | stored


def _row(meta: PaperMetadata, fetched_at: datetime) -> dict[str, object]:
    """A paper's row; its text cleaned (a feed may carry NUL bytes or escape codes too)."""
    return {
        "arxiv_id": meta.arxiv_id,
        "version": meta.version,
        "title": clean(meta.title, lines=False),
        "authors": [clean(name, lines=False) for name in meta.authors],
        "affiliations": [clean(name, lines=False) for name in meta.affiliations],
        "abstract": clean(meta.abstract),
        "primary_category": meta.primary_category,
        "categories": list(meta.categories),
        "published": meta.published,
        "fetched_at": fetched_at,
    }
