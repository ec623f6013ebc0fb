"""The shipped Slack app manifest registers what the adapter listens to, with the scopes it uses."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from adapters.slack.inbound import SLASH_COMMANDS
from adapters.slack.manifest import render

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = (ROOT / "adapters" / "slack" / "manifest.yml").read_text(encoding="utf-8")


def test_manifest_registers_every_command_escaped() -> None:
    commands = re.findall(r"^\s+- command: (/\w+)$", MANIFEST, re.MULTILINE)
    assert sorted(commands) == sorted(SLASH_COMMANDS)
    assert len(re.findall(r"^\s+should_escape: true$", MANIFEST, re.MULTILINE)) == len(commands)
    urls = re.findall(r"(?:url|request_url): (\S+)$", MANIFEST, re.MULTILINE)
    assert urls and all(url.endswith("/slack/events") for url in urls)


def test_the_shipped_manifest_is_made_from_the_registry() -> None:
    """Commands, usage hints and descriptions come from the registry; nothing is typed twice."""
    assert render() == MANIFEST, "run: yomikai slack-manifest > adapters/slack/manifest.yml"
    parsed = yaml.safe_load(MANIFEST)
    hints = {c["command"]: c.get("usage_hint") for c in parsed["features"]["slash_commands"]}
    assert hints["/nominate"] == "<arXiv id or URL> [why]" and hints["/candidates"] is None
    assert "take <n>" in hints["/yomikai"]
    http = yaml.safe_load(render("https://bot.example.net/slack/events", socket_mode=False))
    assert http["settings"]["socket_mode_enabled"] is False
    assert (
        http["settings"]["interactivity"]["request_url"] == "https://bot.example.net/slack/events"
    )


def test_manifest_scopes_and_modes() -> None:
    parsed = yaml.safe_load(MANIFEST)
    assert parsed["settings"]["event_subscriptions"]["bot_events"] == [
        "message.channels",
        "message.groups",
    ]  # replies in a card's thread, kept as questions
    scopes = [scope.split("#")[0].strip() for scope in parsed["oauth_config"]["scopes"]["bot"]]
    assert set(scopes) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "files:write",
        "channels:history",
        "groups:history",
        "im:history",
    }
    assert re.search(r"^\s+socket_mode_enabled: true$", MANIFEST, re.MULTILINE)
    assert re.search(r"interactivity:\n\s+is_enabled: true", MANIFEST)


def test_readme_explains_the_setup() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Connect Slack", 1)[1].split("\n## ", 1)[0]
    for step in ("manifest.yml", "Install", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "/invite"):
        assert step in section
    assert "/yomikai setup" in section
