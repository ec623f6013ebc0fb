"""The optional model draft: any OpenAI-compatible chat endpoint (a hosted API, vLLM, Ollama,
llama.cpp's server) through the ``openai`` package with ``base_url``.

One request per paper and language asks for the summary and the five fields as JSON (a JSON
schema where the server supports structured output, else JSON mode), checked by ``CardAnswer``.
An answer that does not pass gets one retry; then the caller uses the offline draft. Valid
answers are kept in ``model_answer`` by (paper, version, language, model): a redraft or a second
group costs nothing. The ``openai`` client retries 429, 5xx and timeouts with backoff itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, select

from bot.drafting.draft import PaperFacts
from bot.drafting.text import no_controls, plain
from bot.unit import Unit
from storage.models import ModelAnswer
from storage.queries import insert_ignore

log = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "ja": "Japanese"}
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def _clean(value: str) -> str:
    """Without control characters and runs of spaces; line breaks stay."""
    lines = (" ".join(line.split()) for line in no_controls(value).splitlines())
    return "\n".join(lines).strip()


class CardAnswer(BaseModel):
    """What the model must answer: every text bounded, nothing else accepted as a card."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    summary: str = Field(min_length=1, max_length=1500)
    purpose: str = Field(min_length=1, max_length=600)
    results: str = Field(min_length=1, max_length=600)
    method: str = Field(min_length=1, max_length=600)
    model_name: str = Field(min_length=1, max_length=120)
    affiliations: list[str] = Field(default_factory=list, max_length=60)
    translated_title: str = Field(default="", max_length=500)
    translated_abstract: str = Field(default="", max_length=3000)  # (the card's own limit)

    @field_validator(
        "summary",
        "purpose",
        "results",
        "method",
        "model_name",
        "translated_title",
        "translated_abstract",
    )
    @classmethod
    def _no_controls(cls, value: str) -> str:
        return _clean(value)

    @field_validator("affiliations")
    @classmethod
    def _institutions(cls, value: list[str]) -> list[str]:
        cleaned = [_clean(v) for v in value]
        return [v for v in cleaned if v and len(v) <= 200]

    def fits(self, language: str) -> str | None:
        """What is wrong with this answer for ``language`` (None: nothing)."""
        if language == "ja":
            if not self.translated_title or not self.translated_abstract:
                return "translated_title and translated_abstract must be given in Japanese"
            if not all(_JAPANESE.search(text) for text in (self.summary, self.purpose)):
                return "summary and the fields must be written in Japanese"
            if not _JAPANESE.search(self.translated_abstract):
                return "translated_abstract must be Japanese"
        return None


class ModelUnavailable(Exception):
    """The endpoint did not give an answer (after the client's own retries)."""


class ModelClient:
    def __init__(
        self,
        unit: Unit,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        concurrency: int = 2,
        max_retries: int = 3,
    ) -> None:
        import openai  # here, not at the top: a bot with no model never loads it (~15 MiB)

        self.unit = unit
        self.name = model
        # Local servers take any key; the client itself insists on one.
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=max_retries
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._format: str | None = "json_schema"
        """The structured-output mode the server takes (lowered when one is refused)."""

    async def aclose(self) -> None:
        await self._client.close()

    async def answer(self, facts: PaperFacts, language: str) -> tuple[CardAnswer | None, str]:
        """A validated answer (cached) and "", or None and the note that says why not."""
        key = (facts.arxiv_id, facts.version or 0, language, self.name)
        cached = await self.unit.in_thread(lambda s: _cached(s, key), read_only=True)
        if cached is not None:
            return cached, ""
        messages: list[dict[str, str]] = [
            {"role": "system", "content": _instructions(language)},
            {"role": "user", "content": _paper(facts)},
        ]
        for attempt in range(2):  # an answer that does not pass gets one retry
            try:
                content = await self._ask(messages)
            except ModelUnavailable as error:
                log.warning("model %s gave no answer for %s: %s", self.name, facts.arxiv_id, error)
                return None, "draft.note.model_unavailable"
            answer, wrong = _check(content, language)
            if answer is not None:
                now = self.unit.clock.now()
                await self.unit.in_thread(partial(_keep, key=key, answer=answer, now=now))
                return answer, ""
            log.warning(
                "model %s answered %s unusably (attempt %d): %s",
                self.name,
                facts.arxiv_id,
                attempt + 1,
                wrong,
            )
            messages += [
                {"role": "assistant", "content": content[:2000]},
                {"role": "user", "content": f"That answer was not usable: {wrong}. {_SHAPE}"},
            ]
        return None, "draft.note.model_invalid"

    async def _ask(self, messages: list[dict[str, str]]) -> str:
        import openai  # (loaded by __init__ already)

        async with self._slots:
            while True:
                try:
                    completion = await self._client.chat.completions.create(
                        model=self.name,
                        messages=messages,  # type: ignore[arg-type]
                        temperature=0.2,
                        max_tokens=4096,
                        **self._format_option(),
                    )
                except openai.BadRequestError as error:
                    if self._format is None:
                        raise ModelUnavailable(
                            f"refused the request ({error.status_code})"
                        ) from None
                    # An older or local server without this structured-output mode: one lower.
                    self._format = "json_object" if self._format == "json_schema" else None
                    continue
                except openai.APIStatusError as error:
                    raise ModelUnavailable(f"answered HTTP {error.status_code}") from None
                except openai.APITimeoutError:
                    raise ModelUnavailable("no answer in time") from None
                except openai.APIConnectionError:
                    raise ModelUnavailable("could not be reached") from None
                except openai.OpenAIError as error:  # a body that is not a completion
                    raise ModelUnavailable(type(error).__name__) from None
                choices = getattr(completion, "choices", None) or []
                content = choices[0].message.content if choices else None
                return content or ""

    def _format_option(self) -> dict[str, Any]:
        if self._format == "json_schema":
            schema = {"name": "card", "schema": CardAnswer.model_json_schema()}
            return {"response_format": {"type": "json_schema", "json_schema": schema}}
        if self._format == "json_object":
            return {"response_format": {"type": "json_object"}}
        return {}


_SHAPE = (
    "Answer with one JSON object only, with the keys summary, purpose, results, method,"
    " model_name, affiliations (a list of institutions), translated_title and"
    " translated_abstract."
)


def _instructions(language: str) -> str:
    name = LANGUAGES.get(language, "English")
    text = (
        "You draft the summary card of an arXiv paper for a research group's weekly reading"
        f" session. {_SHAPE} Write summary (two or three sentences), purpose, results and method"
        f" (one sentence each) in {name}. model_name: the name the paper gives its own model or"
        ' system, exactly as written, or "-" if it names none (a survey, an analysis).'
        " affiliations: the authors' institutions in author order, each once, as the paper"
        " writes them; [] if the text does not say. Use only what the paper says."
    )
    if language == "ja":
        text += (
            " translated_title: the title in natural Japanese. translated_abstract: the whole"
            " abstract translated into natural Japanese, complete and not shortened."
        )
    else:
        text += ' translated_title and translated_abstract: "".'
    return text


def _paper(facts: PaperFacts) -> str:
    parts = [
        f"Title: {plain(facts.title)}",
        f"Authors: {', '.join(facts.authors[:30])}",
        f"Abstract: {plain(facts.abstract)}",
    ]
    if facts.hints.ai_keywords:
        parts.append(f"Keywords: {', '.join(facts.hints.ai_keywords[:20])}")
    if facts.hints.ai_summary:
        parts.append(f"Hugging Face's one-line summary: {facts.hints.ai_summary[:500]}")
    if facts.hints.github_repo:
        parts.append(f"Code: {facts.hints.github_repo[:200]}")
    if facts.page.text:
        parts.append(f"The start of the paper's text: {facts.page.text}")
    return "\n\n".join(parts)


def _check(content: str, language: str) -> tuple[CardAnswer | None, str]:
    text = _FENCE.sub("", content.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None, "it was not a JSON object"
    try:
        answer = CardAnswer.model_validate(json.loads(text[start : end + 1]))
    except (ValueError, ValidationError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        return None, f"{where}: {first['msg']}" if first else "it was not valid JSON"
    wrong = answer.fits(language)
    return (None, wrong) if wrong else (answer, "")


def _cached(session: Session, key: tuple[str, int, str, str]) -> CardAnswer | None:
    row = session.exec(
        select(ModelAnswer).where(
            ModelAnswer.arxiv_id == key[0],
            ModelAnswer.version == key[1],
            ModelAnswer.language == key[2],
            ModelAnswer.model == key[3],
        )
    ).first()
    if row is None:
        return None
    try:
        return CardAnswer.model_validate(row.answer)
    except ValidationError:
        return None


def _keep(
    session: Session, key: tuple[str, int, str, str], answer: CardAnswer, now: datetime
) -> None:
    values = {
        "arxiv_id": key[0],
        "version": key[1],
        "language": key[2],
        "model": key[3],
        "answer": answer.model_dump(),
        "created_at": now,
    }
    insert_ignore(session, ModelAnswer, values, ("arxiv_id", "version", "language", "model"))
