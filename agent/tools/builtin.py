"""Registering dagbot's built-in tool families.

HTTP is always there; files and email only when configured, because each
needs a deployment decision (which workspace, which mail server). SQL tools
live in ``infra.tools.sql_tools`` so that the agent core stays free of SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.tools.email import SmtpConfig, email_tools
from agent.tools.files import FileToolConfig, file_tools
from agent.tools.http import RESPONSE_KEYS, http_tools, refused_address
from agent.tools.http_policy import HttpToolConfig
from agent.tools.registry import ToolRegistry


@dataclass(frozen=True)
class BuiltinToolConfig:
    http: HttpToolConfig = field(default_factory=HttpToolConfig)
    files: FileToolConfig | None = None
    smtp: SmtpConfig | None = None


def register_builtin_tools(
    registry: ToolRegistry, config: BuiltinToolConfig | None = None
) -> None:
    cfg = config or BuiltinToolConfig()
    families = [http_tools(cfg.http)]
    checks = {"http_get": refused_address(cfg.http), "http_post": refused_address(cfg.http)}
    if cfg.files is not None:
        families.append(file_tools(cfg.files))
    if cfg.smtp is not None:
        families.append(email_tools(cfg.smtp))
    for family in families:
        for tool, risk in family:
            registry.add(tool, risk, returns=RETURNS.get(tool.name), effects=EFFECTS.get(tool.name),
                         untrusted_output=MARKED, plan_check=checks.get(tool.name),
                         fill_ins=FILL_INS.get(tool.name))


RETURNS: dict[str, frozenset[str]] = {
    "http_get": RESPONSE_KEYS, "http_post": RESPONSE_KEYS,
    "read_file": frozenset({"path", "content", "size", "truncated", "note"}),
    "list_files": frozenset({"files", "truncated"}),
    "search_files": frozenset({"matches", "truncated", "files_searched", "note"}),
    "write_file": frozenset({"path", "bytes_written", "appended"}),
    "send_email": frozenset({"sent_to", "message_id"}),
}
"""The keys of each built-in tool's output (see each tool's "Returns" sentence)."""
EFFECTS: dict[str, frozenset[str]] = {
    "write_file": frozenset({"write"}), "send_email": frozenset({"send"}),
    "http_post": frozenset({"post", "send"}),
}
"""What each red built-in tool changes (:mod:`agent.tools.effects`)."""
FILL_INS: dict[str, dict[str, str]] = {"send_email": {"subject": "Message from dagbot"}}
"""Values for required arguments a plan leaves out (:attr:`agent.tools.registry.ToolSpec.fill_ins`):
a mail the request gives no subject for still has one, and the approver sees it."""
MARKED = False
"""Whether the built-in tools' output is shown marked as data (:mod:`agent.model.untrusted`):
not yet. A page or a file is text from outside as an MCP server's answer is, but marking it
cost the local 1.5B model two of bench.quality's nine quick tuning requests (a status page
read wrong, a delete planned with a write: docs/benchmarks.md, "Tool output marked as data"),
while MCP tools' output, from servers a team connects, is always marked."""
