"""The MCP servers file (DAGBOT_MCP_CONFIG): the ``mcpServers`` shape editors and assistants
already use, plus dagbot's own keys per server.

    {"mcpServers": {
        "git": {"command": "mcp-server-git", "args": ["--repository", "/srv/repo"],
                "green": ["git_status", "git_log", "git_diff*"], "timeout_seconds": 30},
        "grafana": {"url": "https://mcp.example.com/mcp",
                    "headers": {"Authorization": "Bearer ${GRAFANA_TOKEN}"},
                    "trust_annotations": true}}}

``${VAR}`` (or ``${VAR:-default}``) in ``env``, ``headers``, ``args`` and ``url`` is taken from
dagbot's environment when the file is read; the values put in are secrets: never logged, shown,
or passed to a sandbox (:func:`secret_values`). A stdio server gets only its ``env`` and the SDK's
short list of safe variables (PATH, HOME…), not dagbot's environment.

Every problem is told with the file, the server and the key. A problem with one server leaves
that server out; the others, and the built-in tools, are not affected (:class:`McpConfig`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SETTING = "DAGBOT_MCP_CONFIG"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
OTHER_CLIENTS_KEYS = frozenset({"autoApprove", "alwaysAllow", "description", "transportType"})
"""Keys other clients keep in the same file: accepted and ignored. Their approval lists in
particular never make a tool green: only ``green`` and ``trust_annotations`` do."""


class ToolOptions(BaseModel):
    """dagbot's keys for one of a server's tools (``"tools": {"git_log": {...}}``)."""

    model_config = ConfigDict(extra="forbid")
    timeout_seconds: float | None = Field(default=None, gt=0)
    """This tool's call timeout, instead of its server's."""


class ServerConfig(BaseModel):
    """One entry of ``mcpServers``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """The key naming the server: its tools are registered as ``<name>__<tool>``."""
    type: Literal["stdio", "http", "streamable-http", "streamable_http", "sse"] | None = None
    """Omitted: stdio with ``command``, Streamable HTTP with ``url``."""
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False

    green: list[str] = Field(default_factory=list)
    """Tool names or glob patterns (``git_diff*``) that are read-only: green. Every other tool
    is red, unless ``trust_annotations`` and it declares itself read-only."""
    red: list[str] = Field(default_factory=list)
    """Tools that are red whatever else says so (a pattern in ``green``, an annotation)."""
    trust_annotations: bool = False
    """Believe this server's ``readOnlyHint``: a tool declaring ``readOnlyHint: true`` and not
    ``destructiveHint: true`` is green. Only for a server you trust to tell the truth."""
    allowed_tools: list[str] | None = None
    """Tool names or patterns registered; the others are left out. Omitted: all."""
    tools: dict[str, ToolOptions] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=60.0, gt=0)
    """A call's timeout: past it the call fails (a red call's outcome is then unknown)."""
    startup_timeout_seconds: float = Field(default=30.0, gt=0)
    """How long dagbot's start waits for the server; it keeps trying after that, with backoff."""
    max_result_bytes: int = Field(default=1_000_000, ge=1_000)
    """A result's size cap (its text and structured content, as UTF-8 JSON)."""
    restart_backoff_seconds: float = Field(default=1.0, gt=0)
    """The wait before the first restart of a server that died or could not start; it doubles
    with each failed start, up to :attr:`max_restart_backoff_seconds`."""
    max_restart_backoff_seconds: float = Field(default=60.0, gt=0)
    ping_seconds: float = Field(default=30.0, gt=0)
    """How often a connected server is pinged: one that does not answer is restarted."""

    @model_validator(mode="before")
    @classmethod
    def _ignore_other_clients_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in OTHER_CLIENTS_KEYS}
        return data

    @model_validator(mode="after")
    def _one_transport(self) -> ServerConfig:
        if not _NAME.match(self.name):
            raise ValueError("a server's name must start with a letter and hold only letters, digits, "
                             "'_' and '-' (at most 32): its tools are called <server>__<tool>")
        if (self.command is None) == (self.url is None):
            raise ValueError("give either 'command' (a stdio server dagbot starts) or 'url' "
                             "(a Streamable HTTP or SSE server)")
        if self.transport == "stdio" and self.command is None:
            raise ValueError(f"type '{self.type}' needs 'command'")
        if self.transport != "stdio" and self.url is None:
            raise ValueError(f"type '{self.type}' needs 'url'")
        if self.transport != "stdio" and (self.args or self.env or self.cwd):
            raise ValueError("'args', 'env' and 'cwd' are for stdio servers (with 'command')")
        if self.transport == "stdio" and self.headers:
            raise ValueError("'headers' are for HTTP servers (with 'url')")
        return self

    @property
    def transport(self) -> Literal["stdio", "http", "sse"]:
        if self.type == "sse":
            return "sse"
        if self.type == "stdio" or (self.type is None and self.command is not None):
            return "stdio"
        return "http"

    @property
    def prefix(self) -> str:
        """What its tools' names start with: the name, '-' made '_' (a tool's name is a Python
        name in package code: ``tools.git__git_log()``)."""
        return self.name.replace("-", "_") + "__"

    def timeout_for(self, tool: str) -> float:
        options = self.tools.get(tool)
        return options.timeout_seconds if options and options.timeout_seconds else self.timeout_seconds


@dataclass
class McpConfig:
    """What the file configures: the servers that parsed, and each problem found (a server
    with a problem is not in ``servers``)."""

    servers: list[ServerConfig] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    """The values put in for ``${VAR}``: never to be shown."""


def load_mcp_config(path: Path, environ: Mapping[str, str] | None = None) -> McpConfig:
    """Read the file; ``${VAR}`` from ``environ`` (default: the process's environment)."""
    env = os.environ if environ is None else environ
    where = f"{SETTING} ({path})"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return McpConfig(problems=[f"{where}: cannot read the file: {exc.strerror or exc}"])
    except UnicodeDecodeError:
        return McpConfig(problems=[f"{where}: the file is not UTF-8 text"])
    except json.JSONDecodeError as exc:
        return McpConfig(problems=[f"{where}: not valid JSON: {exc.msg} at line {exc.lineno}, "
                                   f"column {exc.colno}"])
    servers = document.get("mcpServers") if isinstance(document, dict) else None
    if not isinstance(servers, dict):
        return McpConfig(problems=[f'{where}: needs an object "mcpServers" naming each server '
                                   '({"mcpServers": {"git": {"command": "mcp-server-git"}}})'])
    config = McpConfig()
    prefixes: dict[str, str] = {}
    for name, raw in servers.items():
        if not isinstance(raw, dict):
            config.problems.append(f"{where}: server '{name}': must be an object with 'command' or 'url'")
            continue
        try:
            expanded, secrets = _expanded(raw, env)
        except _MissingVariable as exc:
            config.problems.append(f"{where}: server '{name}', key '{exc.key}': environment variable "
                                   f"{exc.variable} is not set (it is referenced as ${{{exc.variable}}})")
            continue
        try:
            server = ServerConfig.model_validate({**expanded, "name": name})
        except ValidationError as exc:
            config.problems.extend(f"{where}: server '{name}'{problem}" for problem in _problems(exc))
            continue
        if server.prefix in prefixes:
            config.problems.append(f"{where}: server '{name}': its tools would be named like server "
                                   f"'{prefixes[server.prefix]}''s ({server.prefix}…): rename one")
            continue
        prefixes[server.prefix] = name
        config.secrets.extend(secrets)
        if not server.disabled:
            config.servers.append(server)
    return config


def secret_values(path: Path | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every value the file takes from the environment (``${VAR}``), whatever else is wrong in
    it: what no log line may show."""
    if path is None:
        return []
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    found = [env.get(m[1]) or m[2] or "" for m in _VARIABLE.finditer(text)]
    return [value for value in found if value]


class _MissingVariable(Exception):
    def __init__(self, key: str, variable: str) -> None:
        super().__init__(variable)
        self.key, self.variable = key, variable


_EXPANDED = ("env", "headers", "args", "url")


def _expanded(raw: dict[str, Any], env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    secrets: list[str] = []

    def expand(value: Any, key: str) -> Any:
        if isinstance(value, str):
            def put(match: re.Match[str]) -> str:
                found = env.get(match[1])
                if found is None and match[2] is None:
                    raise _MissingVariable(key, match[1])
                put_in = found if found is not None else match[2]
                secrets.append(put_in)
                return put_in
            return _VARIABLE.sub(put, value)
        if isinstance(value, list):
            return [expand(item, f"{key}[{index}]") for index, item in enumerate(value)]
        if isinstance(value, dict):
            return {k: expand(v, f"{key}.{k}") for k, v in value.items()}
        return value

    done = {key: (expand(value, key) if key in _EXPANDED else value) for key, value in raw.items()}
    return done, [s for s in secrets if s]


def _problems(exc: ValidationError) -> list[str]:
    """One line per error: the key, then what is wrong (never the value: it may be a secret)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            model = ToolOptions if error["loc"][0] == "tools" else ServerConfig
            message = ("unknown key; the keys are: "
                       + ", ".join(sorted(set(model.model_fields) - {"name"})))
        lines.append(f", key '{key}': {message}" if key else f": {message}")
    return lines
