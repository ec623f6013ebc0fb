"""Buttons, menus and forms whose meaning lives in their ``custom_id``, so they outlive restarts.

``vote:<round>:<candidate>`` (a vote button), ``votes:<round>:<menu>`` (a vote menu, for ballots
of more than 25 candidates), ``cardform:<n>:fields|extras`` (opens the card form). They are
``DynamicItem``s registered when the client starts: a click on a message posted before a restart
is understood from its id alone. Card forms (modals) are answered by ``custom_id`` as well
(``cardmodal:<n>:<part>:<locale>:<nonce>``), in ``Handlers.modal_submitted``.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

from adapters.discord import limits
from adapters.discord.limits import cut
from bot.i18n import t
from bot.messages import (
    CARD_EXTRAS,
    CARD_FIELDS,
    VOTE_ID,
    CandidateList,
    CardField,
    CardForm,
    vote_id,
)

FORM_PARTS = {
    "fields": CARD_FIELDS,
    "extras": CARD_EXTRAS,
}
"""Discord allows five text inputs per form: the five card fields, then the two optional parts."""
INPUT_LIMITS = {"summary": 3000, "translated_abstract": 3000}
"""The core's limits (``bot.cards``): 1,000 characters a field, 3,000 for the long parts."""
INPUT_LIMIT = 1000
_CARD_MODAL = re.compile(
    r"cardmodal:(?P<number>\d{1,6}):(?P<part>fields|extras):(?P<locale>[a-z]{2}):\d+"
)


class Handlers(Protocol):
    """What a click needs from the adapter (``YomikaiClient.handlers``)."""

    async def vote_clicked(
        self, interaction: discord.Interaction, round_id: int, candidate_id: int
    ) -> None: ...

    async def card_form_clicked(
        self, interaction: discord.Interaction, number: int, part: str
    ) -> None: ...


def handlers(interaction: discord.Interaction) -> Handlers:
    return cast(Handlers, interaction.client.handlers)  # type: ignore[attr-defined]


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=VOTE_ID,
):
    def __init__(
        self, round_id: int, candidate_id: int, label: str = "", row: int | None = None
    ) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=cut(label, limits.BUTTON_LABEL) or str(candidate_id),
            style=discord.ButtonStyle.primary,
            custom_id=vote_id(round_id, candidate_id),
        )
        super().__init__(button, row=row)
        self.round_id = round_id
        self.candidate_id = candidate_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> VoteButton:
        label = getattr(item, "label", None) or ""
        return cls(int(match["round"]), int(match["candidate"]), label)

    async def callback(self, interaction: discord.Interaction) -> None:
        await handlers(interaction).vote_clicked(interaction, self.round_id, self.candidate_id)


class VoteMenu(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"votes:(?P<round>\d{1,18}):(?P<menu>\d)",
):
    """Up to 25 candidates in one menu; choosing one toggles the vote like its button would."""

    def __init__(
        self,
        round_id: int,
        menu: int,
        options: list[discord.SelectOption],
        placeholder: str = "",
        row: int | None = None,
    ) -> None:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"votes:{round_id}:{menu}",
            placeholder=cut(placeholder, limits.SELECT_PLACEHOLDER) or None,
            options=options,
            min_values=1,
            max_values=1,
        )
        super().__init__(select, row=row)
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> VoteMenu:
        options = list(getattr(item, "options", []))
        return cls(int(match["round"]), int(match["menu"]), options)

    async def callback(self, interaction: discord.Interaction) -> None:
        values = self.item.values
        if values and values[0].isdigit():
            await handlers(interaction).vote_clicked(interaction, self.round_id, int(values[0]))


class CardFormButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cardform:(?P<number>\d{1,6}):(?P<part>fields|extras)",
):
    def __init__(self, number: int, part: str, label: str = "") -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=cut(label, limits.BUTTON_LABEL) or str(number),
            style=discord.ButtonStyle.secondary,
            custom_id=f"cardform:{number}:{part}",
        )
        super().__init__(button)
        self.number = number
        self.part = part

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> CardFormButton:
        return cls(int(match["number"]), match["part"], getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await handlers(interaction).card_form_clicked(interaction, self.number, self.part)


DYNAMIC_ITEMS = (VoteButton, VoteMenu, CardFormButton)


def ballot_view(ballot: CandidateList) -> discord.ui.View | None:
    """One button per candidate up to 25; larger ballots get menus of 25 (up to 125)."""
    if not ballot.open or not ballot.candidates:
        return None
    view = discord.ui.View(timeout=None)
    loc = ballot.locale
    lines = ballot.candidates
    if len(lines) <= limits.BUTTONS_PER_ROW * limits.ROWS:
        for index, line in enumerate(lines):
            label = f"{t(loc, 'render.vote_button', number=line.number)} · {line.title}"
            row = index // limits.BUTTONS_PER_ROW
            view.add_item(VoteButton(ballot.round_id, line.candidate_id, label, row=row))
        return view
    for menu in range(limits.ROWS):
        chunk = lines[menu * limits.SELECT_OPTIONS : (menu + 1) * limits.SELECT_OPTIONS]
        if not chunk:
            break
        options = [
            discord.SelectOption(
                label=cut(f"{line.number}. {line.title}", limits.SELECT_LABEL),
                value=str(line.candidate_id),
                description=cut(t(loc, "render.votes", votes=line.votes), 100),
            )
            for line in chunk
        ]
        placeholder = t(loc, "discord.vote_menu", first=chunk[0].number, last=chunk[-1].number)
        view.add_item(VoteMenu(ballot.round_id, menu, options, placeholder, row=menu))
    return view


def form_view(locale: str, number: int, part: str = "fields") -> discord.ui.View:
    """A button that opens card ``number``'s form (``extras``: summary and title translation)."""
    key = "discord.open_form" if part == "fields" else "discord.open_extras"
    view = discord.ui.View(timeout=None)
    view.add_item(CardFormButton(number, part, t(locale, key, number=number)))
    return view


class CardModal(discord.ui.Modal):
    """The card form. Its answer is handled by ``custom_id`` (see the module docstring)."""

    def __init__(self, form: CardForm, part: str, nonce: int) -> None:
        heading = t(form.locale, "render.card_title", number=form.number)
        super().__init__(
            title=cut(f"{heading}: {form.title}", limits.MODAL_TITLE),
            custom_id=f"cardmodal:{form.number}:{part}:{form.locale}:{nonce}",
            timeout=15 * 60,
        )
        for key in FORM_PARTS[part]:
            limit = INPUT_LIMITS.get(key, INPUT_LIMIT)
            long = key not in ("model_name", "translated_title")
            self.add_item(
                discord.ui.TextInput(
                    label=cut(
                        CardField(key, "", key in form.drafted).label(form.locale),
                        limits.INPUT_LABEL,
                    ),
                    custom_id=key,
                    style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                    default=cut(form.values.get(key, ""), limit) or None,
                    required=False,
                    max_length=limit,
                )
            )


def parse_card_modal(custom_id: str) -> tuple[int, str, str] | None:
    """``cardmodal:3:fields:ja:…`` → (3, "fields", "ja"); None for any other form."""
    match = _CARD_MODAL.fullmatch(custom_id)
    return (int(match["number"]), match["part"], match["locale"]) if match else None


def submitted_values(components: list[dict[str, Any]]) -> dict[str, str]:
    """Text inputs of a modal submit, by ``custom_id`` (inside action rows or labels)."""
    values: dict[str, str] = {}
    for component in components:
        inner = component.get("components") or [component.get("component") or {}]
        for item in inner:
            if item.get("type") == 4 and isinstance(item.get("custom_id"), str):
                values[item["custom_id"]] = str(item.get("value") or "")
    return values
