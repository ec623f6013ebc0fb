# Yomikai's image: `docker compose up` (see docker-compose.yml and the README) or
#   docker build -t yomikai . && docker run --env-file .env yomikai
#
# Stage 1 builds a wheel of the project and installs it, with its runtime dependencies only
# (no dev extras: no pytest, no ruff), into a virtual environment. Stage 2 is a fresh slim image
# that receives just that environment and runs as an unprivileged user.

FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
# Only what the wheel is made of (pyproject names README.md as the package's readme).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage

RUN pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/yomikai \
    && /opt/yomikai/bin/pip install /wheels/yomikai-*.whl


FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/yomikai/bin:$PATH

RUN groupadd --system --gid 10001 yomikai \
    && useradd --system --uid 10001 --gid yomikai --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin yomikai \
    && mkdir /app \
    && chown yomikai:yomikai /app

COPY --from=build /opt/yomikai /opt/yomikai

# /app is the working directory and the user's home: without YOMIKAI_DATABASE_URL the bot keeps
# its SQLite file (yomikai.db) here. docker-compose.yml points it at PostgreSQL instead.
WORKDIR /app
USER yomikai

# Slack HTTP mode only (no SLACK_APP_TOKEN): /slack/events on YOMIKAI_HTTP_PORT (default 3000).
# Socket Mode and Discord connect out and need no port.
EXPOSE 3000

ENTRYPOINT ["yomikai"]
CMD ["run"]
