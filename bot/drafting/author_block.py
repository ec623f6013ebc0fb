"""The authors' institutions from a paper's HTML full text, as arXiv's LaTeXML renders it.

LaTeXML writes each ``\\author`` as ``<span class="ltx_creator ltx_role_author">``. Inside it,
``ltx_personname`` holds the names and, after a ``<br class="ltx_break">``, often the
institution lines (``\\author{Name \\\\ Institution \\\\ email}``); ``ltx_author_notes`` holds
``ltx_contact ltx_role_affiliation`` / ``ltx_role_address`` (``\\affiliation``, ``\\institute``)
and ``ltx_role_email``. Footnotes (``\\thanks{Equal contribution}``) are ``ltx_note`` spans and
marks are ``<sup>``. What is read here: every institution, in author order, each once, without
names, emails, footnote marks or notes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

import lxml.html
from lxml import etree

from bot.drafting.text import no_controls, plain

TEXT_LIMIT = 6000
"""Characters of the paper's text kept (for a model's draft): the start is what matters."""

_BREAK = "\n"
_MARK = "\ue000"
"""Where a footnote mark or superscript stood: numbered affiliations split there."""
_NOTE = re.compile(
    r"equal(?:ly)? contribut|contributed equally|corresponding author|work (?:was )?done|"
    r"during (?:an |his |her |their )?internship|now at|currently at|project lead|"
    r"these authors|joint first|first authors?|senior authors?|core contributors?|"
    r"project page|^affiliations?$|^address$|"
    r"\bversion \d+\b|^\s*(?:and|&)\s*$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\S+@\S+|\{[^}]*\}@|https?://\S+|www\.\S+")
_LEADING_MARK = re.compile(r"^[\s\d*†‡§¶♮♠♣♢♡★☆♯#⋆∗,;:&()\[\]'’.-]+")
_TRAILING = re.compile(r"[\s*†‡§¶★☆⋆∗,;:&'’.-]+$")
_INSTITUTION_WORDS = re.compile(
    r"univ|institut|college|school|lab|research|academy|center|centre|inc\b|corp|ltd|gmbh|"
    r"company|foundation|hospital|ai\b|deepmind|google|meta\b|microsoft|openai|nvidia|"
    r"amazon|apple|ibm|baidu|alibaba|tencent|huawei|bytedance|samsung|sony|naver|anthropic|"
    r"mila|eth\b|epfl|mit\b|cnrs|inria|riken|nii\b|department|dept|faculty|group",
    re.IGNORECASE,
)


def institutions(html: str | bytes, authors: Iterable[str] = ()) -> list[str]:
    """The institutions the author block names, in order, deduplicated; [] when none."""
    root = _parse(html)
    if root is None:
        return []
    names = _name_words(authors)
    found: list[str] = []
    for creator in _creators(root):
        found += _of_creator(creator, names)
    # llncs: \institute becomes notes at the start of the document, outside the author block.
    for note in _with_class(root, "ltx_role_institutetext"):
        content = _with_class(note, "ltx_note_content")
        lines = _lines(content[0] if content else note)
        if lines:
            found += _institutions_in(lines[0], names, trusted=True)
    return _unique(found)


def body_text(html: str | bytes) -> str:
    """The start of the paper's text: the author block, the abstract, the introduction."""
    root = _parse(html)
    if root is None:
        return ""
    unread = root.xpath("//script | //style | //nav | //header | //footer")
    for node in [*unread, *_with_class(root, "ltx_title_document", "ltx_bibliography")]:
        _drop(node)
    content = _with_class(root, "ltx_page_content")
    text = " ".join((content[0] if content else root).itertext())
    return " ".join(no_controls(text).split())[:TEXT_LIMIT]


def _parse(html: str | bytes) -> etree._Element | None:
    if not html.strip():
        return None
    try:
        return lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _creators(root: etree._Element) -> list[etree._Element]:
    return list(root.xpath(f"//*[({_has('ltx_creator')}) and ({_has('ltx_role_author')})]"))


def _has(*names: str) -> str:
    """An XPath test: the element has one of the classes ``names``."""
    return " or ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')" for name in names
    )


def _with_class(node: etree._Element, *names: str) -> list[etree._Element]:
    return list(node.xpath(f".//*[{_has(*names)}]"))


def _drop(node: etree._Element) -> None:
    """Remove ``node`` but keep the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def _lines(node: etree._Element) -> list[str]:
    """The node's text split at line breaks, with marks where superscripts stood."""
    copy = lxml.html.fromstring(etree.tostring(node, encoding="unicode"))
    dropped = _with_class(
        copy,
        *("ltx_note", "ltx_note_mark", "ltx_note_type", "ltx_tag_note", "ltx_role_thanks"),
        "ltx_contact_name",  # the label "Affiliation: "
        *("ltx_role_email", "ltx_role_orcid", "ltx_role_homepage"),
        "ltx_font_typewriter",  # emails and URLs are set in \texttt, institutions never are
    )
    for note in dropped:
        _drop(note)
    # acmart: \institution, \city, … as parts with no separator; the institution is the part
    for part in _with_class(copy, "ltx_affiliation_institution"):
        part.tail = _BREAK + (part.tail or "")
    for place in copy.xpath(
        ".//*[contains(@class, 'ltx_affiliation_') and"
        " not(contains(@class, 'ltx_affiliation_institution'))]"
    ):
        _drop(place)
    # \And that older LaTeXML left undefined: the names of another author follow.
    for error in _with_class(copy, "ltx_ERROR"):
        if (error.text or "").strip() in ("\\And", "\\AND", "\\and"):
            error.text = ""
            error.tail = _BREAK + "&" + (error.tail or "")
    # Footnote marks, as superscripts or as math ($^{1}$): numbered affiliations split there.
    for mark in copy.xpath(f".//sup | .//math | .//*[{_has('ltx_sup')}]"):
        mark.tail = _MARK + (mark.tail or "")
        _drop(mark)
    for br in copy.xpath(".//br"):
        br.tail = _BREAK + (br.tail or "")
    for block in copy.xpath(".//*[self::td or self::tr or self::p or self::div]"):
        block.tail = _BREAK + (block.tail or "")
    text = "".join(copy.itertext())
    return [line for line in text.split(_BREAK) if line.strip()]


def _fold(text: str) -> str:
    """For comparing names: case, accents and ``Ł`` as arXiv's metadata may spell them."""
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS)).casefold()
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


_LETTERS = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ß": "ss"})


def _of_creator(creator: etree._Element, names: set[str]) -> Iterator[str]:
    contacts = _with_class(creator, "ltx_role_affiliation", "ltx_role_address")
    for number, contact in enumerate(contacts):
        # The first names the institution; later lines and contacts must read as one (newer
        # LaTeXML makes a contact of every line: "Pittsburgh" is no institution).
        for index, line in enumerate(_lines(contact)):
            yield from _institutions_in(line, names, trusted=number == 0 and index == 0)
    for person in _with_class(creator, "ltx_personname"):
        # The first line holds the names; so does a line that starts a new column with "&"
        # (authors side by side in a tabular, or after \And). The line after the names is the
        # institution; later lines must read as one (not an address or a legend).
        after_names = 0
        for index, line in enumerate(_lines(person)):
            if index == 0 or line.lstrip().startswith("&"):
                after_names = 0
                continue
            after_names += 1
            yield from _institutions_in(line, names, trusted=after_names == 1)


def _institutions_in(line: str, names: set[str], *, trusted: bool) -> Iterator[str]:
    for piece in line.split(_MARK):
        candidate = _clean(piece)
        if not candidate or _NOTE.search(candidate) or _names_people(candidate, names):
            continue
        if trusted or _INSTITUTION_WORDS.search(candidate):
            yield candidate


_LABEL = re.compile(r"^(?:affiliation|address|institution)s?\s*:\s*", re.IGNORECASE)
_HANDLES = re.compile(r"^[a-z0-9._-]+(?:\s*,\s*[a-z0-9._-]+)+$")
"""``zichuan7, jiancui3, …``: the names of an email address list, its domain on another line."""


def _clean(piece: str) -> str:
    piece = _LABEL.sub("", _EMAIL.sub("", plain(piece)).strip())
    if _HANDLES.match(piece.strip()):
        return ""
    piece = _LEADING_MARK.sub("", piece)
    piece = _TRAILING.sub("", piece)
    piece = " ".join(piece.split())
    if len(piece) < 2 or len(piece) > 200 or not any(c.isalpha() for c in piece):
        return ""
    return piece


def _name_words(authors: Iterable[str]) -> set[str]:
    """Authors' names as the author block may spell them: whole, and by last name."""
    words: set[str] = set()
    for author in authors:
        name = _fold(author)
        if name:
            words.add(name)
            last = name.split()[-1]
            if len(last) > 2:
                words.add(last)
    return words


def _names_people(candidate: str, names: set[str]) -> bool:
    """A line of authors' names (``Jordan Hoffmann, Sebastian Borgeaud and …``)."""
    folded = _fold(candidate)
    if folded in names:
        return True
    hits = sum(1 for name in names if " " in name and name in folded)
    if hits >= 1 and not _INSTITUTION_WORDS.search(candidate):
        return True
    parts = [p.strip() for p in re.split(r",| and ", folded) if p.strip()]
    last_names = {n for n in names if " " not in n}
    return len(parts) > 1 and sum(p.split()[-1] in last_names for p in parts) >= len(parts) / 2


def _unique(found: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in found:
        key = re.sub(r"\W+", " ", name).casefold().strip()
        if key and key not in seen:
            seen[key] = name
    return list(seen.values())
