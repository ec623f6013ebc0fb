"""Text from people and papers, made safe to store and to show anywhere.

Every command's text, every form field and every paper's metadata passes through ``clean``
before the core reads it: PostgreSQL refuses NUL bytes, a terminal obeys escape sequences
(``\\x1b]0;title\\x07`` retitles it, ``\\x1b[31m`` paints it), and bidirectional overrides make
text read differently from how it is stored. Printable text in any script, emoji and the
right-to-left *marks* that Arabic and Hebrew need are kept as they are.
"""

from __future__ import annotations

import re

_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the 8-bit CSI
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
"""C0 and C1 controls but tab and newline, DEL, bidi embeddings/overrides/isolates, BOM."""
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str, *, lines: bool = True) -> str:
    """``text`` without escape sequences or control characters; tabs become spaces, ``\\r\\n``
    a newline, a lone surrogate (not encodable as UTF-8) the replacement character.

    ``lines=False`` makes it one line (newlines become spaces), for one-line values.
    """
    if text.isascii() and text.isprintable():  # (the common case, cheaply)
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _SURROGATE.sub("\ufffd", _CONTROLS.sub("", text))
    return text if lines else text.replace("\n", " ")
