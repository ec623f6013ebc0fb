"""arXiv API answers (``GET /api/query``) from the catalog, in the Atom format arXiv sends.

The bot asks two things (``bot/sources/arxiv_source.py``, through the ``arxiv`` package):
``id_list=<ids>`` for papers people nominate, and ``search_query=cat:cs.LG OR cat:cs.CL …`` with
``sortBy=submittedDate&sortOrder=descending`` for the trending fallback's newest submissions; both
with ``start`` and ``max_results`` pages. Ids arXiv does not have are left out, as arXiv does,
so a query for only unknown ids is an empty feed (``totalResults`` 0).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from adapters.demo.papers import Catalog, DemoPaper

_CATEGORY = re.compile(r"\bcat:([A-Za-z.\-]+)")
_SCHEME = "http://arxiv.org/schemas/atom"
_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/{feed_id}</id>
  <title>arXiv Query: {query}</title>
  <updated>{updated}</updated>
  <link href={link} type="application/atom+xml"/>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
"""


def query_feed(catalog: Catalog, query: Mapping[str, str]) -> str:
    """The feed arXiv would send for these query parameters."""
    start = _number(query.get("start"), 0)
    per_page = _number(query.get("max_results"), 10)
    ids = [part for part in query.get("id_list", "").split(",") if part.strip()]
    if ids:
        found = list(dict.fromkeys(p for i in ids if (p := catalog.find(i)) is not None))
    else:
        wanted = set(_CATEGORY.findall(query.get("search_query", "")))
        found = [paper for paper in catalog if wanted & set(paper.categories)]
        found = _sorted(found, query.get("sortBy", ""), query.get("sortOrder", ""))
    page = found[start : start + per_page]
    return _feed(query, page, total=len(found), start=start, per_page=per_page)


def entry(paper: DemoPaper) -> str:
    """The paper's ``<entry>``: the captured one when there is one, else one in its image."""
    if paper.atom_entry is not None:
        return paper.atom_entry
    versioned = paper.versioned_id
    # arXiv starts each further abstract paragraph on a new line indented by two spaces.
    summary = escape(paper.abstract).replace("\n\n", "\n  ")
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{versioned}</id>",
        f"    <title>{escape(paper.title)}</title>",
        f"    <updated>{paper.updated}</updated>",
        f'    <link href="https://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{versioned}" rel="related"'
        ' type="application/pdf" title="pdf"/>',
        f"    <summary>{summary}</summary>",
        *(f'    <category term="{c}" scheme="{_SCHEME}"/>' for c in paper.categories),
        f"    <published>{paper.published}</published>",
        f'    <arxiv:primary_category term="{paper.primary_category}"/>',
    ]
    for author in paper.authors:
        lines += ["    <author>", f"      <name>{escape(author)}</name>", "    </author>"]
    return "\n".join([*lines, "  </entry>", ""])


def _sorted(papers: list[DemoPaper], sort_by: str, order: str) -> list[DemoPaper]:
    if sort_by not in ("submittedDate", "lastUpdatedDate"):
        return papers  # relevance: the catalog's order
    field = "published" if sort_by == "submittedDate" else "updated"
    return sorted(papers, key=lambda p: str(getattr(p, field)), reverse=order != "ascending")


def _feed(
    query: Mapping[str, str], papers: list[DemoPaper], *, total: int, start: int, per_page: int
) -> str:
    asked = {
        "search_query": query.get("search_query", ""),
        "id_list": query.get("id_list", ""),
        "start": str(start),
        "max_results": str(per_page),
    }
    text = "&".join(f"{key}={value}" for key, value in asked.items())
    digest = base64.b64encode(hashlib.sha1(text.encode("utf-8")).digest()).decode("ascii")
    head = _HEAD.format(
        feed_id=digest.rstrip("="),
        query=escape(text),
        updated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        link=quoteattr("https://arxiv.org/api/query?" + urlencode(asked, safe=":,")),
        per_page=per_page,
        total=total,
        start=start,
    )
    return head + "".join(entry(paper) for paper in papers) + "</feed>\n"


def _number(value: str | None, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except ValueError:
        return default
