"""The offline draft: a stated, deterministic rule set over the title, abstract and author block.

The rules (``docs/cards.md`` explains them with examples):

- *Summary*: the abstract's first sentence, then its first contribution sentence and its first
  result sentence (the cues below), in the abstract's order, each once, at most three; when that
  gives fewer than two, the abstract's next sentences fill up to two.
- *Purpose*, *Results*, *Method*: the first sentence with a purpose, result or method cue that
  no earlier field took, shortened to one line. Purpose falls back to the first sentence; Method
  prefers a sentence about the authors' own work (``we``, ``our``, ``this method``), may share
  the result sentence when no other has a method cue, then takes the first other sentence that
  names the model, and last the purpose sentence.
- *Model name*: the name the title gives before its colon (``LLaMA: Open and …``), else the name
  the abstract gives its system (``we introduce X``, ``a model, X,``, ``named X``,
  ``Long Name (ACRONYM)`` in a contribution sentence), else the capitalised name of the code
  repository the abstract links (``github.com/openai/CLIP``) or Hugging Face lists; ``-`` when
  none of these names one or the title says it is a survey.
- *Affiliations*: arXiv's metadata when the authors filled it in, else the HTML author block,
  else the organization Hugging Face lists; institutions in author order, each once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.drafting.draft import (
    ABSTRACT,
    AFFILIATIONS_SHOWN,
    ARXIV_METADATA,
    AUTHOR_BLOCK,
    HUGGING_FACE,
    NO_MODEL_NAME,
    Draft,
    PaperFacts,
)
from bot.drafting.text import one_line, plain, sentences

PURPOSE = re.compile(
    r"\b(?:in this (?:paper|work)|this (?:paper|work) \w+s|we\b[^.]*?\b(?:propos|introduc|"
    r"present|develop|investigat|stud|address|explor|aim|ask|describ|design|examin|revisit|"
    r"build|releas|tackl)\w*)",
    re.IGNORECASE,
)
RESULTS = re.compile(
    r"\b(?:we (?:show|find|found|demonstrate|observe|achieve|obtain|report|establish|verify|"
    r"confirm)|results? (?:show|demonstrate|indicate|suggest)|outperform\w*|surpass\w*|"
    r"state[- ]of[- ]the[- ]art|achiev\w+|improv\w+ (?:over|upon|by)|reach\w*|"
    r"significantly (?:better|improv\w*)|matches|comparable to|competitive with|"
    r"experiments? (?:show|demonstrate))",
    re.IGNORECASE,
)
METHOD = re.compile(
    r"\b(?:by (?:\w+ly )?\w+ing|designed to|using|via|we (?:train|use|fine-tune|finetune|"
    r"leverage|combine|adopt|apply|employ|learn|pre-?train|augment|freeze|inject)|"
    r"based (?:solely )?on|leverag\w+|consists? of|relies on|builds? on|trained on|through)\b",
    re.IGNORECASE,
)
OURS = re.compile(
    r"\b(?:we|our|this (?:technique|method|approach|model|framework|system|work|paper))\b",
    re.IGNORECASE,
)
"""A sentence about the authors' own work (a method sentence should be one)."""

_WORD = r"[A-Z][\w\-.+]*[\w+]|[A-Z]"
NAME = rf"(?:{_WORD})(?:[- ](?:{_WORD}|\d[\w.]*))?"
"""A system's name: capitalised words (``Chinchilla``, ``Make-A-Scene``, ``Mistral 7B``)."""
_TITLE_NAME = re.compile(r"^\s*([^:]{1,40}?)\s*:\s+\S")
_NAMED = [
    re.compile(rf"\b(?:called|named|dubbed|termed|coined)\s+(?:the\s+)?({NAME})"),
    re.compile(
        r"\b[Ww]e (?:introduce|present|propose|release|train|develop|build|describe|"
        rf"open-source|pretrain|pre-train)\s+(?:the\s+)?({NAME})(?=[\s,.;:(])"
    ),
    re.compile(
        r"\b(?:model|models|system|method|framework|approach|agent|architecture|network|"
        rf"algorithm|technique|family|suite|pipeline|language model),?\s+(?:the\s+)?({NAME})\s*,"
    ),
    re.compile(rf"^({NAME}),\s+(?:a|an|the)\s"),
]
_ACRONYM = re.compile(r"((?:[A-Z][\w\-]*\s+){0,4}[A-Z][\w\-]*)\s*\(([A-Z][A-Za-z0-9\-]{1,15})\)")
_REPOSITORY = re.compile(r"github\.com/[\w.-]+/([\w.-]*[A-Z][\w.-]*?)(?:\.git)?(?=[/\s.,;)]|$)")
"""``github.com/openai/CLIP``: a code repository named like a system."""
_COMMON = {
    "We",
    "The",
    "This",
    "Our",
    "In",
    "It",
    "These",
    "Here",
    "A",
    "An",
    "To",
    "However",
}
_GENERIC_ACRONYMS = re.compile(
    r"^(?:LLMs?|LMs?|VLMs?|MLLMs?|NLP|AI|AGI|ML|DL|RL|RLHF|CV|QA|GPUs?|TPUs?|SOTA|CoT|MoE|"
    r"NLU|NLG|ASR|TTS|API|APIs|GANs?|CNNs?|RNNs?|DNNs?|MLPs?)$"
)
_SURVEY = re.compile(
    r"\b(?:survey|review|overview|tutorial|position paper|primer|perspective)\b", re.I
)


def offline_draft(facts: PaperFacts) -> Draft:
    """The draft the rules above give; no network, the same answer every time."""
    text = plain(facts.abstract)
    said = sentences(text)
    taken: set[int] = set()
    purpose = _first(said, PURPOSE, taken)
    if purpose is None and said:
        purpose = 0
    if purpose is not None:
        taken.add(purpose)
    results = _first(said, RESULTS, taken)
    if results is not None:
        taken.add(results)
    method = _first(said, METHOD, taken, OURS, strict=True)
    if method is None and purpose is not None and METHOD.search(said[purpose]):
        method = purpose  # "We propose X, which … by …" says both
    if method is None:
        method = _first(said, METHOD, taken)
    if method is None:  # every method sentence says something else too: share one
        method = _first(said, METHOD, {purpose} if purpose is not None else set())
    affiliations, source = _affiliations(facts)
    model_name, model_source = model_name_of(plain(facts.title), said)
    # Last, the code repository Hugging Face links, when it is named like a system.
    repository = _REPOSITORY.search(facts.hints.github_repo)
    linked = repository is not None and _usable(repository.group(1))
    if model_name == NO_MODEL_NAME and linked and not _SURVEY.search(facts.title):
        assert repository is not None
        model_name, model_source = repository.group(1), HUGGING_FACE
    if method is None and model_name != NO_MODEL_NAME:  # what the system is, then
        mentions = re.compile(rf"\b{re.escape(model_name)}\b")
        method = _first(said, mentions, taken)
    if method is None:
        method = purpose
    sources = {
        "summary": ABSTRACT,
        "purpose": ABSTRACT,
        "results": ABSTRACT,
        "method": ABSTRACT,
        "model_name": model_source,
    }
    notes = []
    if affiliations:
        sources["affiliations"] = source
    elif facts.page.unavailable:
        notes.append("draft.note.html_unavailable")
    elif not facts.page.found:
        notes.append("draft.note.no_html")
    else:
        notes.append("draft.note.no_affiliations")

    def line(index: int | None) -> str:
        return one_line(said[index]) if index is not None else ""

    return Draft(
        arxiv_id=facts.arxiv_id,
        title=plain(facts.title),
        summary=_summary(said, purpose, results),
        purpose=line(purpose),
        results=line(results),
        method=line(method),
        model_name=model_name,
        affiliations=tuple(affiliations[:AFFILIATIONS_SHOWN]),
        more_affiliations=max(0, len(affiliations) - AFFILIATIONS_SHOWN),
        sources={k: v for k, v in sources.items() if k != "results" or results is not None},
        notes=tuple(notes),
    )


def _first(
    said: list[str],
    cue: re.Pattern[str],
    taken: set[int],
    prefer: re.Pattern[str] | None = None,
    *,
    strict: bool = False,
) -> int | None:
    """The first sentence with ``cue`` no other part took (one with ``prefer`` too, if any;
    ``strict``: only such a one)."""
    fits = [i for i, s in enumerate(said) if i not in taken and cue.search(s)]
    preferred = [i for i in fits if prefer is not None and prefer.search(said[i])]
    chosen = preferred or ([] if strict else fits)
    return chosen[0] if chosen else None


def _summary(said: list[str], contribution: int | None, result: int | None) -> str:
    chosen = sorted({i for i in (0, contribution, result) if i is not None and i < len(said)})
    for index in range(len(said)):
        if len(chosen) >= 2:
            break
        if index not in chosen:
            chosen = sorted({*chosen, index})
    return " ".join(one_line(said[i], 300) for i in chosen[:3])


def model_name_of(title: str, said: list[str]) -> tuple[str, str]:
    """The paper's own name for its system, and where it was found; ``-`` for none."""
    if _SURVEY.search(title):
        return NO_MODEL_NAME, ARXIV_METADATA
    titled = _TITLE_NAME.match(title)
    if titled and _usable(titled.group(1)) and len(titled.group(1).split()) <= 3:
        return titled.group(1), ARXIV_METADATA
    for sentence in said:
        for pattern in _NAMED:
            for match in pattern.finditer(sentence):
                if _usable(match.group(1)):
                    return _with_acronym(match.group(1), sentence), ABSTRACT
    for sentence in (s for s in said if PURPOSE.search(s)):
        for match in _ACRONYM.finditer(sentence):
            long, short = match.group(1), match.group(2)
            words = long.split()
            while words and words[0] in _COMMON:
                words = words[1:]
            if words and not _GENERIC_ACRONYMS.match(short) and _initials_fit(words, short):
                return f"{' '.join(words)} ({short})", ABSTRACT
    for sentence in said:
        for repository in _REPOSITORY.finditer(sentence):
            if _usable(repository.group(1)):
                return repository.group(1), ABSTRACT
    return NO_MODEL_NAME, ABSTRACT


def _usable(name: str) -> bool:
    first = name.split()[0].split("-")[0]
    return (
        bool(name)
        and first not in _COMMON
        and not _GENERIC_ACRONYMS.match(name)
        and any(c.isupper() for c in name)
    )


def _with_acronym(name: str, sentence: str) -> str:
    """``Socratic Models (SMs)`` when the sentence spells the name out with its acronym."""
    match = re.search(rf"{re.escape(name)}\s*\(([A-Z][A-Za-z0-9\-]{{1,15}})\)", sentence)
    return f"{name} ({match.group(1)})" if match else name


def _initials_fit(words: list[str], acronym: str) -> bool:
    """``Self-Taught Reasoner`` fits ``STaR``: the acronym's capitals start the name's parts."""
    parts = [p for w in words for p in w.split("-") if p]
    capitals = [c for c in acronym if c.isupper()]
    initials = [p[0].upper() for p in parts]
    return len(capitals) >= 2 and initials[-len(capitals) :] == capitals


def _affiliations(facts: PaperFacts) -> tuple[list[str], str]:
    if facts.affiliations:
        return _unique(facts.affiliations), ARXIV_METADATA
    if facts.page.affiliations:
        return _unique(facts.page.affiliations), AUTHOR_BLOCK
    if facts.hints.organizations:
        return _unique(facts.hints.organizations), HUGGING_FACE
    return [], ""


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        clean = " ".join(name.split())
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return list(seen.values())
