"""Settings, read once from the environment (and an optional .env file) at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.ports.sandbox import SandboxLimits
from sandbox.image import DEFAULT_IMAGE, DEFAULT_ROOTFS


class Settings(BaseSettings):
    """Every setting dagbot reads. docs/configuration.md's table lists them."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///var/dagbot.sqlite", validation_alias="DATABASE_URL",
        description="sqlite:///PATH (embedded default) or postgresql://USER@HOST:PORT/DB.",
    )
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr = Field(default=SecretStr(""), validation_alias="OPENAI_API_KEY")
    model: str = Field(default="gpt-4o-mini", validation_alias="DAGBOT_MODEL")
    local_model: Path | None = Field(
        default=None, validation_alias="DAGBOT_LOCAL_MODEL",
        description="A GGUF file that llama.cpp's server, started by dagbot, plans with, when neither "
                    "OPENAI_BASE_URL nor OPENAI_API_KEY is set.",
    )
    local_model_threads: int = Field(
        default=0, ge=0, validation_alias="DAGBOT_LOCAL_MODEL_THREADS",
        description="Threads llama.cpp computes the local model with; 0: one per core dagbot may use.",
    )
    max_replans: int = Field(default=2, ge=0, validation_alias="DAGBOT_MAX_REPLANS")
    stream_planner: bool = Field(default=True, validation_alias="DAGBOT_STREAM_PLANNER")
    plan_output: Literal["auto", "tool_call", "json_schema"] = Field(
        default="auto", validation_alias="DAGBOT_PLAN_OUTPUT",
        description="How the plan is asked for: a forced tool call, or text held to the plan's JSON "
                    "schema; auto: the schema wherever the server holds replies to one (asked once at "
                    "start), the tool call otherwise.",
    )
    reply_tokens: int = Field(
        default=1024, ge=0, validation_alias="DAGBOT_REPLY_TOKENS",
        description="Most tokens of one model reply, asked of a server at OPENAI_BASE_URL (and of the "
                    "local model's): a small model can repeat itself until its context is full. 0: no "
                    "cap. OpenAI's own models are not capped.",
    )
    prompt_chars: int = Field(default=80_000, ge=10_000, validation_alias="DAGBOT_PROMPT_CHARS")
    tool_attempts: int = Field(default=3, ge=1, validation_alias="DAGBOT_TOOL_ATTEMPTS")
    result_cache_ttl_seconds: float = Field(default=30, ge=0, validation_alias="DAGBOT_RESULT_CACHE_TTL")
    approval_ttl_seconds: float = Field(default=86_400, gt=0, validation_alias="DAGBOT_APPROVAL_TTL")
    standing_approval_ttl_seconds: float = Field(
        default=3_600, gt=0, validation_alias="DAGBOT_STANDING_APPROVAL_TTL",
        description='Seconds an "Approve for this thread" grant lasts, unless revoked before.',
    )
    tools: str = Field(
        default="", validation_alias="DAGBOT_TOOLS",
        description="Comma-separated modules with a register(registry) function.",
    )
    mcp_config: Path | None = Field(
        default=None, validation_alias="DAGBOT_MCP_CONFIG",
        description="A JSON file of MCP servers (mcpServers) whose tools dagbot uses (docs/tools.md).",
    )
    workspace: Path | None = Field(default=None, validation_alias="DAGBOT_WORKSPACE")
    query_file: bool = Field(
        default=False, validation_alias="DAGBOT_QUERY_FILE",
        description="Offer query_file (one SQL query over a workspace file) with the file tools: off by "
                    "default, as it made the local 1.5B model plan worse (docs/benchmarks.md).",
    )
    file_shapes: bool = Field(
        default=False, validation_alias="DAGBOT_FILE_SHAPES",
        description="Show the planner the columns and keys of the CSV and JSON files a request names: off "
                    "by default: with the local 1.5B model they helped on bench.quality's dev set and cost "
                    "holdout requests (docs/benchmarks.md).",
    )
    http_allow_hosts: str = Field(default="", validation_alias="DAGBOT_HTTP_ALLOW_HOSTS")
    http_deny_hosts: str = Field(default="", validation_alias="DAGBOT_HTTP_DENY_HOSTS")
    sql_url: str | None = Field(default=None, validation_alias="DAGBOT_SQL_URL")
    smtp_host: str | None = Field(default=None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(default=25, validation_alias="SMTP_PORT")
    smtp_username: str | None = Field(default=None, validation_alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, validation_alias="SMTP_STARTTLS")
    smtp_from: str = Field(default="dagbot@localhost", validation_alias="SMTP_FROM")
    sandbox_backend: str = Field(default="auto", validation_alias="SANDBOX_BACKEND")
    sandbox_image: str = Field(default=DEFAULT_IMAGE, validation_alias="SANDBOX_IMAGE")
    sandbox_rootfs: Path = Field(default=DEFAULT_ROOTFS, validation_alias="DAGBOT_SANDBOX_ROOTFS")
    package_attempts: int = Field(default=3, ge=1, validation_alias="DAGBOT_PACKAGE_ATTEMPTS")
    table_queries: bool = Field(
        default=True, validation_alias="DAGBOT_TABLE_QUERIES",
        description="A package whose inputs hold one table (CSV, JSON records, a logfmt log) is computed by "
                    "one SQL query the model writes before its Python is tried (docs/sandbox.md).",
    )
    sandbox_wall_seconds: float = Field(default=30.0, gt=0, validation_alias="SANDBOX_WALL_SECONDS")
    sandbox_memory_mb: int = Field(default=256, ge=32, validation_alias="SANDBOX_MEMORY_MB")
    sandbox_cpus: float = Field(default=1.0, gt=0, validation_alias="SANDBOX_CPUS")
    sandbox_pids: int = Field(default=64, ge=8, validation_alias="SANDBOX_PIDS")
    sandbox_output_bytes: int = Field(default=256_000, ge=1_000, validation_alias="SANDBOX_OUTPUT_BYTES")
    sandbox_concurrency: int = Field(
        default=4, ge=1, validation_alias="SANDBOX_CONCURRENCY",
        description="Sandboxes that run at once in this process; more package runs wait for a slot.",
    )
    sandbox_tool_calls: int = Field(default=20, ge=0, validation_alias="SANDBOX_TOOL_CALLS")
    sandbox_tool_timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="SANDBOX_TOOL_TIMEOUT")
    lease_ttl_seconds: float = Field(default=30, gt=0, validation_alias="DAGBOT_LEASE_TTL")
    db_connections: int = Field(
        default=24, ge=4, validation_alias="DAGBOT_DB_CONNECTIONS",
        description="PostgreSQL connections this process may open at most, besides its lock and "
                    "listener connections: half for the checkpointer, half for everything else.",
    )
    claim_retake_seconds: float = Field(
        default=30, gt=0, validation_alias="DAGBOT_CLAIM_RETAKE",
        description="A Slack message claimed but not queued for this long (its replica died) is "
                    "taken over by Slack's retry.",
    )
    replica: str = Field(
        default="", validation_alias="DAGBOT_REPLICA",
        description="This process's name in the metrics' replica label (default: hostname-pid).",
    )
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_command: str = Field(default="/agent", validation_alias="DAGBOT_SLACK_COMMAND")
    slack_stream_answers: bool = Field(
        default=True, validation_alias="DAGBOT_SLACK_STREAM_ANSWERS",
        description="Stream answers into Slack as the model writes them (chat.startStream).",
    )
    slack_stream_plan: bool = Field(
        default=True, validation_alias="DAGBOT_SLACK_STREAM_PLAN",
        description="Show each run's plan in Slack as streamed tasks (chat.startStream, plan display "
                    "mode) instead of lines in its status message.",
    )
    slack_approver_dms: bool = Field(
        default=True, validation_alias="DAGBOT_SLACK_APPROVER_DMS",
        description="DM the people who may decide on an approval asked in a DM, group DM or private "
                    "channel, where they may not see it.",
    )
    approvers: str = Field(
        default="", validation_alias="DAGBOT_APPROVERS",
        description='JSON: tool name (or "*") → list of Slack user ids / user group ids.',
    )
    policy_file: Path | None = Field(
        default=None, validation_alias="DAGBOT_POLICY_FILE",
        description="YAML access policy: who may use which tool where, who approves, where the bot answers.",
    )
    audit_retention_days: float = Field(
        default=0, ge=0, validation_alias="DAGBOT_AUDIT_RETENTION_DAYS",
        description="Audit rows older than this are pruned by the bot's sweeper; 0 keeps them for ever.",
    )
    alerts_file: Path | None = Field(
        default=None, validation_alias="DAGBOT_ALERTS_FILE",
        description="YAML (or JSON) alert routes: which Slack channel and request each Alertmanager alert "
                    "group gets (docs/alerts.md); set, POST /hooks/alertmanager takes notifications.",
    )
    alerts_token: SecretStr | None = Field(
        default=None, validation_alias="DAGBOT_ALERTS_TOKEN",
        description="The bearer token Alertmanager must send to POST /hooks/alertmanager.",
    )
    alerts_hmac_secret: SecretStr | None = Field(
        default=None, validation_alias="DAGBOT_ALERTS_HMAC_SECRET",
        description="A secret POST /hooks/alertmanager also takes notifications signed with "
                    "(X-Dagbot-Signature: sha256=<hex HMAC-SHA256 of the body>), e.g. from a signing proxy.",
    )
    pagerduty_secret: SecretStr | None = Field(
        default=None, validation_alias="DAGBOT_PAGERDUTY_SECRET",
        description="The secret of a PagerDuty v3 webhook subscription; set, POST /hooks/pagerduty takes "
                    "its signed events (routes from DAGBOT_ALERTS_FILE).",
    )
    alerts_runs_per_minute: int = Field(
        default=5, ge=0, validation_alias="DAGBOT_ALERTS_RUNS_PER_MINUTE",
        description="Runs one alert route starts at most per minute, across all replicas; the rest are "
                    "queued and start as the limit frees, listed in one summary message per storm.",
    )
    port: int = Field(default=3000, validation_alias="PORT")
    playground_dir: Path = Field(
        default=Path("var/playground"), validation_alias="DAGBOT_PLAYGROUND_DIR",
        description="The playground's files: the demo workspace lives here.",
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "DAGBOT_LOG_LEVEL"))

    @field_validator("local_model", "mcp_config", "alerts_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)} (any case)")
        return level

    def sandbox_limits(self) -> SandboxLimits:
        return SandboxLimits(
            wall_seconds=self.sandbox_wall_seconds, memory_mb=self.sandbox_memory_mb,
            cpus=self.sandbox_cpus, pids=self.sandbox_pids, output_bytes=self.sandbox_output_bytes,
            tool_calls=self.sandbox_tool_calls, tool_timeout_seconds=self.sandbox_tool_timeout_seconds,
        )

    def tool_modules(self) -> list[str]:
        return [m.strip() for m in self.tools.split(",") if m.strip()]

    def secret_values(self) -> list[str]:
        """What no log line may show: every secret setting's value (tokens, keys, passwords),
        the passwords in DATABASE_URL and DAGBOT_SQL_URL, the credentials in
        OPENAI_BASE_URL, and what DAGBOT_MCP_CONFIG takes from the environment (``${VAR}``)."""
        from infra.tools.mcp.config import secret_values as mcp_secrets

        found = [value.get_secret_value() for name in type(self).model_fields
                 if isinstance(value := getattr(self, name), SecretStr)]
        found += mcp_secrets(self.mcp_config)
        for url in (self.database_url, self.sql_url or ""):
            password = urlsplit(url).password
            found += [password, unquote(password)] if password else []
        return [value for value in found + url_credentials(self.openai_base_url or "") if value]


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CREDENTIAL_PARAM = re.compile(r"key|token|secret|sig|pass|auth|cred", re.I)


def url_credentials(url: str) -> list[str]:
    """A URL's password, or its user when alone (a token), as written and decoded, and its
    key-like query values."""
    parts = urlsplit(url)
    found = [part for part in (parts.password or parts.username,) if part]
    found += [unquote(part) for part in found]
    return found + [value for name, value in parse_qsl(parts.query) if _CREDENTIAL_PARAM.search(name)]
_SECRET = ("TOKEN", "SECRET", "PASSWORD", "KEY")


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per invalid setting: its environment name, what is wrong, and the value given
    (unless the setting is a secret)."""
    either = {str(choices[0]): " or ".join(map(str, choices)) for field in Settings.model_fields.values()
              if isinstance(field.validation_alias, AliasChoices)
              for choices in [field.validation_alias.choices]}  # LOG_LEVEL or DAGBOT_LOG_LEVEL
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        secret = any(word in name.upper() for word in _SECRET)
        shown = f" (got {given!r})" if isinstance(given, str | int | float) and not secret else ""
        problems.append(f"{either.get(name, name)}: {message}{shown}")
    return problems


def split_hosts(value: str) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in value.split(",") if h.strip())
