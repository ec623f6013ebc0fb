"""Settings from the environment or ``.env``, validated once at start-up."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.drafting.pages import DEFAULT_AR5IV_URL, DEFAULT_ARXIV_HTML_URL
from bot.i18n import LOCALES
from bot.sources.arxiv_source import DEFAULT_ARXIV_API_URL
from bot.sources.paperswithcode import DEFAULT_PWC_API_URL
from bot.timezones import canonical_zone


class Settings(BaseSettings):
    """Every variable of the README's configuration table that this build uses."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("sqlite:///yomikai.db", validation_alias="YOMIKAI_DATABASE_URL")
    arxiv_api_url: str = Field(DEFAULT_ARXIV_API_URL, validation_alias="YOMIKAI_ARXIV_API_URL")
    timezone: str = Field("UTC", validation_alias="YOMIKAI_TIMEZONE")
    locale: str = Field("en", validation_alias="YOMIKAI_LOCALE")
    hf_api_url: str = Field("https://huggingface.co/api", validation_alias="YOMIKAI_HF_API_URL")
    pwc_api_url: str = Field(DEFAULT_PWC_API_URL, validation_alias="YOMIKAI_PWC_API_URL")
    http_port: int = Field(3000, ge=1, le=65535, validation_alias="YOMIKAI_HTTP_PORT")
    public_url: str = Field("", validation_alias="YOMIKAI_PUBLIC_URL")
    """Where the bot's HTTP server is reachable from outside (``https://bot.example.org``):
    calendar links are made under it (the feed ``/calendar/<token>.ics``); empty: none."""
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    discord_bot_token: SecretStr | None = Field(None, validation_alias="DISCORD_BOT_TOKEN")
    discord_guild_id: int | None = Field(None, validation_alias="DISCORD_GUILD_ID")
    discord_api_url: str | None = Field(None, validation_alias="DISCORD_API_URL")
    discord_message_content: bool = Field(True, validation_alias="DISCORD_MESSAGE_CONTENT")
    """Read what members write in a card's thread (Discord's privileged Message Content
    intent, switched on in the Developer Portal); off: threads are made, questions not kept."""
    arxiv_html_url: str = Field(DEFAULT_ARXIV_HTML_URL, validation_alias="YOMIKAI_ARXIV_HTML_URL")
    ar5iv_url: str = Field(DEFAULT_AR5IV_URL, validation_alias="YOMIKAI_AR5IV_URL")
    llm_base_url: str | None = Field(None, validation_alias="YOMIKAI_LLM_BASE_URL")
    llm_model: str | None = Field(None, validation_alias="YOMIKAI_LLM_MODEL")
    llm_api_key: SecretStr | None = Field(None, validation_alias="YOMIKAI_LLM_API_KEY")
    chromium: str | None = Field(None, validation_alias="YOMIKAI_CHROMIUM")
    send_lease: float = Field(15.0, ge=3, le=600, validation_alias="YOMIKAI_SEND_LEASE")
    """Seconds a post being sent is its sender's; after a crash another process sends it then."""
    arxiv_spacing: float = Field(3.0, ge=0, le=60, validation_alias="YOMIKAI_ARXIV_SPACING")
    """Seconds between two requests to arXiv, across every process (its API terms ask for 3)."""
    log_file: str = Field("yomikai.log", validation_alias="YOMIKAI_LOG_FILE")
    """Where the console chat logs (a terminal shows standard error amid the chat)."""

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @property
    def discord_enabled(self) -> bool:
        return self.discord_bot_token is not None

    @property
    def console_chat(self) -> bool:
        """No chat token at all: ``yomikai run`` is the local console chat."""
        return not (self.slack_bot_token or self.slack_signing_secret or self.discord_enabled)

    @model_validator(mode="after")
    def _model_named(self) -> Settings:
        if bool(self.llm_base_url) != bool(self.llm_model):
            raise ValueError(
                "YOMIKAI_LLM_BASE_URL and YOMIKAI_LLM_MODEL go together: set both (or neither,"
                " for the offline drafts)"
            )
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        zone = canonical_zone(value)
        if zone is None:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Tokyo, UTC)")
        return zone

    @field_validator("locale")
    @classmethod
    def _shipped_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"{value!r} is not a shipped language ({', '.join(LOCALES)})")
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.startswith(("https://", "http://")) or " " in value):
            raise ValueError(f"{value!r} is not a web address (e.g. https://bot.example.org)")
        return value

    @field_validator("database_url", "arxiv_api_url", "arxiv_html_url", "ar5iv_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


ENV_NAMES = {name: str(field.validation_alias) for name, field in Settings.model_fields.items()}


def describe_errors(error: ValidationError) -> list[str]:
    """One line per bad variable, named as the user wrote it (never echoing a secret)."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        message = item["msg"].removeprefix("Value error, ")
        if not field:  # about several variables together; the message names them
            lines.append(message)
            continue
        lines.append(f"{ENV_NAMES.get(field, field.upper())}: {message}")
    return lines
