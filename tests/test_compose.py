"""docker-compose.yml, the Dockerfile and .dockerignore, checked without a Docker engine.

``docker-compose config`` (Compose v1, Debian's ``docker-compose`` package, installed here when
missing and we are root) validates the compose file against the compose specification and
resolves its variables from a ``.env``, in a temporary copy of the files so the checkout is never
touched. PyYAML and plain-text checks hold the promises the README makes: PostgreSQL with a
healthcheck and a named volume, a bot that waits for it, replicas that can scale, and a slim,
non-root image without development tools.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

APT_TIMEOUT = 300
INSTALL = [
    "apt-get",
    "-o",
    "DPkg::Lock::Timeout=120",
    "install",
    "-y",
    "-qq",
    "--no-install-recommends",
    "docker-compose",
]


def _apt(command: list[str]) -> subprocess.CompletedProcess[str] | None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return None


def _install_docker_compose() -> str:
    """Install Debian's docker-compose; return what went wrong ("" when it worked)."""
    result = _apt(INSTALL)
    if result is None or result.returncode != 0:  # stale or missing package lists
        _apt(["apt-get", "update", "-qq"])
        result = _apt(INSTALL)
    if result is None:
        return f"apt-get install took longer than {APT_TIMEOUT} s"
    if result.returncode != 0:
        return f"apt-get install failed: {result.stderr.strip()[-500:]}"
    return ""


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """The ``docker-compose`` executable; under CI=true its absence fails instead of skipping."""
    problem = ""
    if shutil.which("docker-compose") is None:
        if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
            problem = _install_docker_compose()
        else:
            problem = "not root or no apt-get, so Debian's docker-compose cannot be installed"
    path = shutil.which("docker-compose")
    if path is None:
        reason = f"docker-compose is not installed ({problem or 'not found after installing'})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must validate the compose file")
        pytest.skip(reason)
    return path


def _project(directory: Path, env_lines: list[str]) -> Path:
    """A copy of the files compose reads, with this ``.env``."""
    for source in (COMPOSE, DOCKERFILE, DOCKERIGNORE):
        shutil.copy(source, directory / source.name)
    (directory / ".env").write_text("".join(f"{line}\n" for line in env_lines), encoding="utf-8")
    return directory


def _compose(executable: str, project: Path, *args: str) -> str:
    # A bare environment: variables of the calling shell (COMPOSE_FILE, POSTGRES_PASSWORD, …)
    # would override .env and make the result depend on who runs the test.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(project), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [executable, "-f", "docker-compose.yml", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"docker-compose {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def _published(ports: list[Any]) -> list[str]:
    """Host ports of a resolved ``ports`` list, in short ("8080:3000") or long form."""
    published = []
    for port in ports:
        if isinstance(port, dict):
            published.append(str(port.get("published")))
        else:
            published.append(str(port).rsplit(":", 1)[0].rsplit(":", 1)[-1])
    return published


@pytest.mark.timeout(APT_TIMEOUT * 2 + 60)  # the first user of the fixture may install it
def test_docker_compose_accepts_the_file(docker_compose: str, tmp_path: Path) -> None:
    project = _project(tmp_path, ["SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=test"])
    _compose(docker_compose, project, "config", "-q")
    _compose(docker_compose, project, "--profile", "http", "config", "-q")


@pytest.mark.timeout(APT_TIMEOUT * 2 + 60)
def test_docker_compose_resolves_env_into_the_services(docker_compose: str, tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        [
            "POSTGRES_USER=reader",
            "POSTGRES_PASSWORD=s3cret",
            "POSTGRES_DB=papers",
            "YOMIKAI_HTTP_PORT=8080",
            # The compose file's own URL and port win over these.
            "YOMIKAI_DATABASE_URL=sqlite:///yomikai.db",
            "DISCORD_BOT_TOKEN=discord-test",
        ],
    )
    config = yaml.safe_load(_compose(docker_compose, project, "--profile", "http", "config"))
    services = config["services"]
    bot_env = services["bot"]["environment"]
    assert bot_env["YOMIKAI_DATABASE_URL"] == "postgresql+psycopg://reader:s3cret@db:5432/papers"
    assert str(bot_env["YOMIKAI_HTTP_PORT"]) == "3000"
    assert bot_env["DISCORD_BOT_TOKEN"] == "discord-test"  # .env reaches the bot
    db_env = services["db"]["environment"]
    assert (db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"], db_env["POSTGRES_DB"]) == (
        "reader",
        "s3cret",
        "papers",
    )
    assert _published(services["proxy"]["ports"]) == ["8080"]

    # Nothing set: the defaults still make a working pair.
    (project / ".env").write_text("", encoding="utf-8")
    config = yaml.safe_load(_compose(docker_compose, project, "config"))
    url = config["services"]["bot"]["environment"]["YOMIKAI_DATABASE_URL"]
    assert url == "postgresql+psycopg://yomikai:yomikai@db:5432/yomikai"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_is_the_spec_without_version(compose: dict[str, Any]) -> None:
    assert "version" not in compose
    assert {"db", "bot"} <= set(compose["services"])


def test_database_is_postgres_with_healthcheck_and_named_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:1[67](\.\d+)?", db["image"]), db["image"]
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert db["environment"][name].startswith(f"${{{name}:-"), name
    assert "ports" not in db, "the database is for the bot only"


def test_bot_waits_for_a_healthy_database_and_reads_env(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["build"] == "."
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["restart"] == "unless-stopped"
    env_file = bot["env_file"]
    paths = [env_file] if isinstance(env_file, (str, dict)) else env_file
    assert [p["path"] if isinstance(p, dict) else p for p in paths] == [".env"]
    url = bot["environment"]["YOMIKAI_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://"), url
    assert re.search(r"@db:5432/", url), url
    # A fixed host port would stop `--scale bot=2`; HTTP mode publishes through the proxy.
    assert "ports" not in bot
    assert "container_name" not in bot


def test_http_profile_proxies_to_every_replica(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["profiles"] == ["http"]
    assert "bot:3000" in proxy["command"]
    assert proxy["ports"] == ["${YOMIKAI_HTTP_PORT:-3000}:3000"]


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continued lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            pairs.append((keyword.upper(), " ".join(arguments.split())))
    return pairs


def test_dockerfile_is_slim_non_root_and_runtime_only() -> None:
    instructions = _instructions(DOCKERFILE.read_text(encoding="utf-8"))
    bases = [arguments.split()[0] for keyword, arguments in instructions if keyword == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:3\.11-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), base
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    final = instructions[last_from + 1 :]

    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users, "the final stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert ("WORKDIR", "/app") in final
    assert any(k == "ENV" and "PYTHONUNBUFFERED=1" in a for k, a in final)
    assert any(k == "EXPOSE" and "3000" in a.split() for k, a in final)
    entrypoint = [json.loads(a) for k, a in final if k == "ENTRYPOINT"]
    command = [json.loads(a) for k, a in final if k == "CMD"]
    assert entrypoint[-1:] == [["yomikai"]]
    assert command[-1:] == [["run"]]
    # The final stage receives only what the build stage installed, never the source tree.
    for keyword, arguments in final:
        if keyword in {"COPY", "ADD"}:
            assert keyword == "COPY" and arguments.startswith("--from="), arguments
    # Runtime dependencies only: no dev extras, no test or lint tools.
    text = " ".join(arguments for _, arguments in instructions)
    for tool in ("[dev]", "pytest", "ruff", "pyyaml"):
        assert tool not in text, f"{tool} in the image"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    required = {".venv", ".git", ".env", "*.db", ".pytest_cache", ".ruff_cache", "**/__pycache__"}
    assert required <= patterns, required - patterns
