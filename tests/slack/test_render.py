"""Block Kit drawing: escaping, Slack's size limits, the card modal (no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.slack.blocks import ELLIPSIS, escape, fit
from adapters.slack.inbound import request_key, vote_target
from adapters.slack.modal import CardTarget, card_view, field_errors, submitted_fields
from adapters.slack.render import render
from bot.messages import (
    CARD_FIELDS,
    Agenda,
    AgendaSlot,
    CandidateLine,
    CandidateList,
    CardField,
    CardForm,
    Notice,
    Person,
    Problem,
    Reminder,
    SessionExport,
    SummaryCard,
    parse_vote_id,
    vote_id,
)

MEETS = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
LONG = "<b>" + "Attention & Transformers " * 300


def line(number: int, title: str = "A paper") -> CandidateLine:
    return CandidateLine(
        number, 100 + number, "2204.06974", title, "https://arxiv.org/abs/x", 3, 2, 1.5
    )


def texts(blocks: list[dict]) -> list[str]:
    """Every text object's text, wherever it sits in the blocks."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn"):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def test_escape_and_fit_never_split_an_entity() -> None:
    assert escape("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    cut = fit(escape("ab<<<<"), 8)
    assert cut.endswith(ELLIPSIS) and len(cut) <= 8 and "&l" not in cut.replace("&lt;", "")


def test_ballot_buttons_carry_round_and_candidate() -> None:
    ballot = CandidateList("en", 7, (line(1), line(2)))
    drawn = render(ballot)
    accessories = [b["accessory"] for b in drawn.blocks if "accessory" in b]
    assert [a["action_id"] for a in accessories] == ["vote:7:101", "vote:7:102"]
    assert [a["value"] for a in accessories] == ["vote:7:101", "vote:7:102"]
    assert vote_target(accessories[0]["action_id"]) == (7, 101)
    assert vote_target("vote:7:x") is None and vote_target("show_summary") is None
    assert "votes: 3" in json.dumps(drawn.blocks) and "trending 1.5" in json.dumps(drawn.blocks)
    closed = render(CandidateList("en", 7, (line(1),), open=False))
    assert not any("accessory" in b for b in closed.blocks)
    assert closed.blocks[0]["text"]["text"] == "Voting closed"


def test_block_kit_limits() -> None:
    ballot = render(CandidateList("en", 1, tuple(line(n, LONG) for n in range(1, 61))))
    assert len(ballot.blocks) == 50
    assert "13 more candidates" in json.dumps(ballot.blocks)
    for block in ballot.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if "accessory" in block:
            assert len(block["accessory"]["text"]["text"]) <= 75
    card = render(
        SummaryCard(
            "en",
            1,
            MEETS,
            "2204.06974",
            LONG,
            "https://arxiv.org/abs/2204.06974",
            LONG,
            LONG,
            tuple(CardField(key, LONG[:1000]) for key in CARD_FIELDS),
            None,
        )
    )
    notice = render(Notice(LONG, title=LONG, lines=(LONG,) * 5))
    for drawn in (ballot, card, notice):
        assert len(drawn.text) <= 3000
        for block in drawn.blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
        assert all(len(text) <= 3000 for text in texts(drawn.blocks))
        assert "<b>" not in json.dumps(drawn.blocks) and "<b>" not in drawn.text
    # Long text of many lines: several sections, no line lost.
    assert len(render(Notice("\n".join([LONG[:2000]] * 3))).blocks) == 3


def test_agenda_and_card_show_presenters_as_mentions() -> None:
    slots = (
        AgendaSlot(
            1,
            "2204.06974",
            "Backdoors",
            "https://arxiv.org/abs/2204.06974",
            Person("U04F1ELK3WZ", "ada"),
            True,
        ),
        AgendaSlot(2, "2204.00598", "Video", "https://arxiv.org/abs/2204.00598", None, False),
        AgendaSlot(
            3,
            "2203.14465",
            "STaR",
            "https://arxiv.org/abs/2203.14465",
            Person("console-<@U1>", "<!here>"),
            False,
        ),
    )
    drawn = json.dumps(render(Agenda("en", MEETS, slots)).blocks, ensure_ascii=False)
    assert "<@U04F1ELK3WZ>" in drawn and "open — /yomikai take 2" in drawn
    assert "&lt;!here&gt;" in drawn and "<@U1>" not in drawn
    card = render(
        SummaryCard(
            "ja",
            2,
            MEETS,
            "2204.00598",
            "Video",
            "https://arxiv.org/abs/2204.00598",
            "動画",
            "",
            tuple(CardField(key, "x" if key == "purpose" else "") for key in CARD_FIELDS),
            Person("U04F1ELK3WZ", "ada"),
        )
    )
    text = json.dumps(card.blocks, ensure_ascii=False)
    assert "目的" in text and "著者所属" in text and "<@U04F1ELK3WZ>" in text
    assert "記入または確認が必要：成果、方法、モデル名、著者所属" in text


def test_problem_shows_usage_and_example() -> None:
    drawn = render(Problem("“x” is not a number.", "/vote <n>", "/vote 2"))
    assert drawn.blocks[0]["text"]["text"].startswith(":warning:")
    assert "`/vote &lt;n&gt;`" in json.dumps(drawn.blocks)


def test_card_modal_round_trip() -> None:
    values = {"purpose": "why", "method": "m" * 5000, "summary": "s"}
    form = CardForm("en", 3, "<!channel> title", values)
    view = card_view(form, "C05RDNG4GRP")
    assert view["callback_id"] == "card" and len(view["title"]["text"]) <= 24
    assert CardTarget.load(view["private_metadata"]) == CardTarget("C05RDNG4GRP", 3)
    assert "&lt;!channel&gt;" in view["blocks"][0]["text"]["text"]
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert len(inputs) == 8 and all(b["optional"] for b in inputs.values())
    method = inputs["method"]["element"]
    assert method["max_length"] == 1000 and len(method["initial_value"]) == 1000
    assert inputs["summary"]["element"]["max_length"] == 3000
    assert "initial_value" not in inputs["results"]["element"]
    state = {
        "values": {
            "purpose": {"purpose": {"type": "plain_text_input", "value": "new"}},
            "results": {"results": {"type": "plain_text_input", "value": None}},
        }
    }
    assert submitted_fields({"state": state}) == {"purpose": "new", "results": ""}
    problem = Problem("too long")
    assert field_errors(problem, {"method": "m" * 1001}) == {"method": "too long"}
    assert field_errors(problem, {"method": "ok"}) == {"purpose": "too long"}
    assert CardTarget.load("not json") is None


def test_request_keys_tell_retries_from_new_requests() -> None:
    command = {"trigger_id": "1.2.a", "command": "/vote"}
    click = {"type": "block_actions", "trigger_id": "1.2.b", "actions": [{"action_ts": "9.1"}]}
    assert request_key(command) != request_key(click)
    assert request_key({"event_id": "Ev1", "trigger_id": "x"}) == "event:Ev1"
    assert request_key({"type": "url_verification"}) is None
    assert vote_id(1, 2) == "vote:1:2" and parse_vote_id("vote:1:2") == (1, 2)
    assert parse_vote_id("vote:1:2:3") is None and parse_vote_id("vote:x:2") is None


def test_reminder_for_a_dm() -> None:
    reminder = Reminder(
        "en", 2, "<!here> Video", "https://arxiv.org/abs/2204.00598", MEETS, ("results", "method")
    )
    drawn = render(reminder)
    assert drawn.blocks[0]["type"] == "header" and "card 2" in drawn.blocks[0]["text"]["text"]
    text = json.dumps(drawn.blocks)
    assert "Results, Method" in text and "/card 2" in text and "<!here>" not in text
    assert "<https://arxiv.org/abs/2204.00598|&lt;!here&gt; Video>" in text


def test_a_long_export_is_cut_with_a_note_and_stays_inert() -> None:
    hostile = "<!channel> @everyone ``` end of fence & more\n"
    cards = tuple(
        SummaryCard(
            "en",
            n,
            MEETS,
            "2204.06974",
            f"Paper {n} <!here>",
            "https://arxiv.org/abs/2204.06974",
            "",
            hostile * 60,
            tuple(CardField(key, hostile * 20) for key in CARD_FIELDS),
            None,
        )
        for n in range(1, 31)
    )
    drawn = render(SessionExport("en", MEETS, cards))
    assert len(drawn.blocks) <= 50 and all(len(text) <= 3000 for text in texts(drawn.blocks))
    assert drawn.blocks[0]["text"]["text"] == "Session of 2026-12-02 as Markdown: 30 cards."
    assert "too long for one message" in drawn.blocks[-1]["elements"][0]["text"]
    body = [b["text"]["text"] for b in drawn.blocks[1:-1]]
    assert all(part.startswith("```\n") and part.endswith("\n```") for part in body)
    inner = "".join(part[4:-4] for part in body)
    assert "```" not in inner  # a fence in the text cannot end the code block early
    assert "<!channel>" not in json.dumps(drawn.blocks)
    assert "&amp;lt;!channel&gt;" in inner  # the Markdown's own escape, escaped for Slack
