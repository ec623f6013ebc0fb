"""A paper's HTML full text as arxiv.org/html and ar5iv serve it: LaTeXML's page frame around
the title, the paper's real author block and its abstract (what ``bot/drafting`` reads)."""

from __future__ import annotations

from html import escape

from adapters.demo.papers import DemoPaper


def paper_page(paper: DemoPaper) -> str:
    paragraphs = "".join(f'<p class="ltx_p">{escape(p)}</p>' for p in paper.abstract.split("\n\n"))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(paper.title)}</title></head><body>"
        '<div class="ltx_page_main"><div class="ltx_page_content">'
        '<article class="ltx_document ltx_authors_1line">'
        f'<h1 class="ltx_title ltx_title_document">{escape(paper.title)}</h1>'
        f"{paper.author_block}"
        '<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>'
        f"{paragraphs}</div>"
        "</article></div>"
        '<footer class="ltx_page_footer">Served by the Yomikai demo from its bundled catalog'
        " (no network).</footer></div></body></html>"
    )


def missing_page(paper: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>'
        f"</head><body><h1>No HTML for '{escape(paper)}'</h1><p>The Yomikai demo has only the"
        " papers of its bundled catalog.</p></body></html>"
    )
