"""Tests for bot.paper_ids: every way people paste a paper, and garbage that must be refused."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.paper_ids import PaperId, PaperIdError, parse_paper_id

NEW = "2204.06974"

ACCEPTED: list[tuple[str, str, int | None]] = [
    # bare ids
    ("2204.06974", NEW, None),
    ("2204.06974v2", NEW, 2),
    ("2204.06974V3", NEW, 3),
    ("2501.12345", "2501.12345", None),
    ("2501.12345v11", "2501.12345", 11),
    ("0704.0001", "0704.0001", None),
    ("1412.9999", "1412.9999", None),
    ("2204.6974", "2204.6974", None),  # lenient: 4 digits after 1412
    ("0901.12345", "0901.12345", None),  # lenient: 5 digits before 1501
    ("  2204.06974 \n", NEW, None),
    ("\t2204.06974v2\t", NEW, 2),
    # arXiv: prefix in any case
    ("arXiv:2204.06974", NEW, None),
    ("arxiv:2204.06974v2", NEW, 2),
    ("ARXIV:2204.06974", NEW, None),
    ("ArXiv:2204.06974", NEW, None),
    ("arXiv: 2204.06974", NEW, None),
    # trailing / wrapping punctuation
    ("2204.06974.", NEW, None),
    ("2204.06974,", NEW, None),
    ("(2204.06974)", NEW, None),
    ("(arXiv:2204.06974v2).", NEW, 2),
    ("`2204.06974`", NEW, None),
    ("*2204.06974*", NEW, None),
    ('"2204.06974"', NEW, None),
    ("2204.06974\u200b", NEW, None),
    # arxiv.org links
    ("https://arxiv.org/abs/2204.06974", NEW, None),
    ("https://arxiv.org/abs/2204.06974v2", NEW, 2),
    ("http://arxiv.org/abs/2204.06974", NEW, None),
    ("arxiv.org/abs/2204.06974", NEW, None),
    ("https://www.arxiv.org/abs/2204.06974", NEW, None),
    ("www.arxiv.org/abs/2204.06974", NEW, None),
    ("http://export.arxiv.org/abs/2204.06974", NEW, None),
    ("HTTPS://ArXiv.Org/abs/2204.06974", NEW, None),
    ("https://arxiv.org/abs/2204.06974/", NEW, None),
    ("https://arxiv.org/pdf/2204.06974", NEW, None),
    ("https://arxiv.org/pdf/2204.06974v2", NEW, 2),
    ("https://arxiv.org/pdf/2204.06974.pdf", NEW, None),
    ("https://arxiv.org/pdf/2204.06974v2.pdf", NEW, 2),
    ("https://arxiv.org/html/2204.06974v1", NEW, 1),
    ("https://arxiv.org/abs/2204.06974?context=cs", NEW, None),
    ("https://arxiv.org/abs/2204.06974#section", NEW, None),
    ("https://arxiv.org/abs/2204.06974v2?context=cs#s2", NEW, 2),
    ("https://arxiv.org/abs/2204.06974.", NEW, None),
    ("https://arxiv.org/abs/2204.06974,", NEW, None),
    ("(https://arxiv.org/abs/2204.06974)", NEW, None),
    ("https://arxiv.org:443/abs/2204.06974", NEW, None),
    # Slack and Markdown wrapping
    ("<https://arxiv.org/abs/2204.06974>", NEW, None),
    ("<https://arxiv.org/abs/2204.06974|arxiv.org/abs/2204.06974>", NEW, None),
    ("<https://arxiv.org/abs/2204.06974v2|arxiv.org/abs/2204.06974v2>", NEW, 2),
    ("<https://arxiv.org/abs/2204.06974v2|2204.06974>", NEW, 2),
    ("<https://arxiv.org/abs/2204.06974|PaLM: Scaling Language Modeling>", NEW, None),
    ("<https://arxiv.org/abs/2204.06974>.", NEW, None),
    ("[PaLM](https://arxiv.org/abs/2204.06974)", NEW, None),
    # other sites that host arXiv papers
    ("alphaxiv.org/abs/2204.06974", NEW, None),
    ("https://www.alphaxiv.org/overview/2204.06974", NEW, None),
    ("www.alphaxiv.org/overview/2204.06974v2", NEW, 2),
    ("https://huggingface.co/papers/2204.06974", NEW, None),
    ("huggingface.co/papers/2204.06974#community", NEW, None),
    # DOIs
    ("10.48550/arXiv.2204.06974", NEW, None),
    ("doi:10.48550/arXiv.2204.06974", NEW, None),
    ("https://doi.org/10.48550/arXiv.2204.06974", NEW, None),
    ("https://dx.doi.org/10.48550/arxiv.2204.06974", NEW, None),
    # old-style ids
    ("hep-th/9901001", "hep-th/9901001", None),
    ("HEP-TH/9901001", "hep-th/9901001", None),
    ("arXiv:hep-th/9901001v3", "hep-th/9901001", 3),
    ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001", None),
    ("https://arxiv.org/pdf/hep-th/9901001v2.pdf", "hep-th/9901001", 2),
    ("math.GT/0309136", "math/0309136", None),
    ("arXiv:math.GT/0309136v1", "math/0309136", 1),
    ("https://arxiv.org/abs/math.GT/0309136", "math/0309136", None),
    ("physics.acc-ph/0101001", "physics/0101001", None),
    ("cond-mat/0703001", "cond-mat/0703001", None),
    ("q-bio/0401001", "q-bio/0401001", None),
    ("solv-int/9912001", "solv-int/9912001", None),
    ("10.48550/arXiv.hep-th/9901001", "hep-th/9901001", None),
    # one id inside ordinary chat text
    ("let's read 2204.06974 next week!", NEW, None),
    ("next: https://arxiv.org/abs/2204.06974 (the PaLM paper)", NEW, None),
    ("<@U123> 2204.06974", NEW, None),
    ("2204.06974 and again arXiv:2204.06974", NEW, None),
    ("2204.06974 see also 2213.00001", NEW, None),  # impossible id-alikes are ignored
    ("see https://github.com/google/palm and 2204.06974", NEW, None),
]

GARBAGE: list[str] = [
    "",
    " ",
    "\n\t  \n",
    "x" * 10_000,
    "2204.06974 " * 1000,
    "1; DROP TABLE paper;--",
    "2204.06974; DROP TABLE paper;--" + " " * 2000,
    "<script>alert(1)</script>",
    "<a href='https://example.com/abs/2204.06974x'>click</a>",
    "🎉",
    "📄🔥🚀",
    "<!channel>",
    "<!here|@here>",
    "<@U123>",
    "<@U123|alice>",
    "<#C123|general>",
    "@everyone",
    "@here",
    "<@&123456789>",
    "https://example.com/abs/2204.06974",
    "example.com/abs/2204.06974",
    "https://arxiv.org.evil.com/abs/2204.06974",
    "https://evilarxiv.org/abs/2204.06974",
    "https://arxiv.org/list/cs.CL/recent",
    "https://arxiv.org/abs/",
    "https://huggingface.co/google/palm",
    "2204.06974 2301.00001",
    "https://arxiv.org/abs/2204.06974 and https://arxiv.org/abs/2301.00001",
    "<https://arxiv.org/abs/2204.06974|arxiv.org/abs/2301.00001>",
    "2204.06974v1 2204.06974v2",
    "2213.00001",
    "2200.00001",
    "2204.06974v0",
    "0612.1234",
    "2204.069",
    "2204.069745",
    "22040.6974",
    "x2204.06974",
    "2204.06974x",
    "٢٢٠٤.٠٦٩٧٤",
    "foo-bar/9901001",
    "hep-th/990100",
    "hep-th/9913001",
    "hep-th",
    "arXiv:",
    "10.1000/xyz123",
    "see you at 10:30",
    "and/or",
]


@pytest.mark.parametrize(("text", "canonical", "version"), ACCEPTED)
def test_accepts(text: str, canonical: str, version: int | None) -> None:
    paper = parse_paper_id(text)
    assert paper == PaperId(canonical, version)
    assert paper.url == f"https://arxiv.org/abs/{canonical}"


@pytest.mark.parametrize("text", GARBAGE)
def test_rejects(text: str) -> None:
    with pytest.raises(PaperIdError) as info:
        parse_paper_id(text)
    message = str(info.value)
    assert message
    assert len(message) <= 200
    assert "<!" not in message
    assert "@everyone" not in message
    assert "<script" not in message


def test_error_is_value_error() -> None:
    assert issubclass(PaperIdError, ValueError)


def test_paper_id_is_frozen() -> None:
    paper = parse_paper_id("2204.06974v2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        paper.canonical = "2301.00001"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("x" * 10_000, "too long"),
        ("x" * 2001, "too long"),
        ("2213.00001", "month"),
        ("2204.06974 2301.00001", "ambiguous"),
        ("2204.06974v1 2204.06974v2", "ambiguous"),
        ("https://example.com/abs/2204.06974", "arxiv.org"),
        ("foo-bar/9901001", "archive"),
        ("hello there", "no arXiv id"),
    ],
)
def test_reasons(text: str, reason: str) -> None:
    with pytest.raises(PaperIdError, match=reason):
        parse_paper_id(text)


def test_exactly_at_limit_is_examined() -> None:
    assert parse_paper_id("2204.06974".ljust(2000)) == PaperId(NEW, None)


def test_message_never_echoes_input() -> None:
    marker = "zqxjzqxjzqxj"
    for text in (marker, f"{marker}/9901001", f"https://{marker}.com/abs/2204.06974"):
        with pytest.raises(PaperIdError) as info:
            parse_paper_id(text)
        assert marker not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1999,
        "a-" * 999,
        "1" * 1999,
        "arxiv.org/" + "/" * 1989,
        "https://" + "a." * 995,
        "hep-th.GT" + ".GT" * 660,
        "<" * 1000 + ">" * 999,
        "10.48550/arxiv." * 133,
        "https://arxiv.org/abs/" + "2204.06974v" * 180,
    ],
)
def test_pathological_input_is_fast(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(PaperIdError):
        parse_paper_id(text)
    assert time.perf_counter() - start < 0.05
