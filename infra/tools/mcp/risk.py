"""An MCP tool's risk, decided by the operator's configuration, never by the model or the server.

Red unless the configuration says otherwise (fail closed):

1. a name or pattern in the server's ``red``: red, whatever else says so;
2. a name or pattern in its ``green``: green;
3. ``trust_annotations`` and the tool declares ``readOnlyHint: true`` and not
   ``destructiveHint: true``: green;
4. anything else, a tool without annotations included: red.

A server's annotations are hints it gives about itself; an untrusted server declaring
``readOnlyHint`` gets nothing for it. Each decision keeps why, for ``dagbot tools``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from mcp import types

from agent.tools.registry import Risk
from infra.tools.mcp.config import ServerConfig


@dataclass(frozen=True)
class RiskDecision:
    risk: Risk
    why: str


def matching(patterns: Iterable[str], tool: str) -> str | None:
    """The first pattern (a name, or a glob such as ``git_diff*``) that ``tool`` matches."""
    return next((p for p in patterns if fnmatchcase(tool, p)), None)


def decide_risk(server: ServerConfig, tool: str, annotations: types.ToolAnnotations | None) -> RiskDecision:
    """``tool``'s risk: its name on server ``server`` is what the patterns match."""
    where = f"mcpServers.{server.name}"
    if pattern := matching(server.red, tool):
        return RiskDecision(Risk.RED, f"configured red ('{pattern}' in {where}.red)")
    if pattern := matching(server.green, tool):
        return RiskDecision(Risk.GREEN, f"configured green ('{pattern}' in {where}.green)")
    read_only = annotations is not None and annotations.readOnlyHint is True
    destructive = annotations is not None and annotations.destructiveHint is True
    if server.trust_annotations:
        if annotations is None:
            return RiskDecision(Risk.RED, "declares no annotations (its server's are trusted, but it "
                                          "does not say it is read-only)")
        if read_only and not destructive:
            return RiskDecision(Risk.GREEN, f"declares readOnlyHint and {where}.trust_annotations is set")
        if read_only:
            return RiskDecision(Risk.RED, "declares readOnlyHint but also destructiveHint")
        return RiskDecision(Risk.RED, "does not declare readOnlyHint")
    if read_only:
        return RiskDecision(Risk.RED, f"declares readOnlyHint, but {where}.trust_annotations is not set "
                                      f"and it is not in {where}.green")
    return RiskDecision(Risk.RED, f"not in {where}.green (an MCP tool is red unless configured green)")


def unused_patterns(server: ServerConfig, tools: Iterable[str]) -> list[str]:
    """``green``, ``red`` and ``allowed_tools`` patterns that match none of ``tools`` (a typo,
    or a tool the server no longer has): worth a warning."""
    names = list(tools)
    keys = {"green": server.green, "red": server.red, "allowed_tools": server.allowed_tools or []}
    return [f"{key} '{pattern}'" for key, patterns in keys.items() for pattern in patterns
            if not any(fnmatchcase(name, pattern) for name in names)]
