"""One MCP tool as a LangChain tool the registry holds: its server's description for the
planner, its inputSchema for validation (:mod:`infra.tools.mcp.arguments`), and a call through
its server's connection whose failures are dagbot's tool errors:

- the server not connected (the call was not sent): a green tool's error is transient (tried
  again as the retry policy says, while the server restarts); a red tool's is plain: it did
  not run;
- the server gone during the call: transient for a green tool; for a red one
  :class:`~agent.errors.ToolOutcomeUnknown`, so the engine asks again rather than guessing;
- past the timeout: :class:`~agent.errors.ToolTimeout` (a red call's outcome is unknown);
- ``isError``: :class:`~infra.tools.mcp.results.McpToolFailed`, the server's words the reason.

What the server says (its output, its errors) has the configuration's secrets masked.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from mcp import McpError, types

from agent.errors import ToolError, ToolOutcomeUnknown, ToolTimeout, TransientToolError
from agent.execution.redaction import Redactor
from agent.tools.registry import Risk
from infra.tools.mcp.arguments import JsonSchemaArguments, arguments_model
from infra.tools.mcp.connection import CallTimedOut, ConnectionLost, ServerConnection, ServerUnavailable
from infra.tools.mcp.results import McpToolFailed, tool_output

DESCRIPTION_CHARS = 4_000
RETURNS = ("Returns {text, structured?, notes?, truncated?}: the server's text, its structured "
           "content when it gives one, and notes on what is not shown.")
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_]")


def registry_name(prefix: str, tool: str) -> str:
    """``<server>__<tool>``, every character that is not a letter, digit or '_' made '_' (a
    tool's name is a Python name in package code)."""
    return prefix + _NOT_A_NAME.sub("_", tool)


def mcp_tool(connection: ServerConnection, tool: types.Tool, name: str, risk: Risk,
             redactor: Redactor | None = None) -> BaseTool:
    """Raises :class:`~infra.tools.mcp.arguments.UnusableSchema`."""
    server = connection.server
    timeout = server.timeout_for(tool.name)
    masked = redactor or Redactor()
    where = f"MCP server '{server.name}'"

    async def call(**arguments: Any) -> dict[str, Any]:
        try:
            result = await connection.call(tool.name, arguments, timeout)
        except ServerUnavailable as exc:
            why = f"{where} is not connected ({masked(str(exc))})"
            if risk is Risk.GREEN:
                raise TransientToolError(why) from None
            raise ToolError(f"{why}: '{tool.name}' was not called") from None
        except ConnectionLost:
            if risk is Risk.GREEN:
                raise TransientToolError(f"{where} went away during the call") from None
            raise ToolOutcomeUnknown(f"{where} went away during the call to '{tool.name}'") from None
        except CallTimedOut:
            raise ToolTimeout(f"'{name}' did not answer within {timeout:g} s") from None
        except McpError as exc:
            raise ToolError(f"{where} refused the call: {masked(exc.error.message)}") from None
        except Exception as exc:  # e.g. structured content that does not fit the tool's outputSchema
            raise ToolError(f"{where}: {type(exc).__name__}: {masked(str(exc))}") from None
        try:
            return masked_values(tool_output(result, server.max_result_bytes), masked)
        except McpToolFailed as exc:
            raise McpToolFailed(f"'{tool.name}' on {where} reported an error: {masked(str(exc))}") from None

    return SchemaCheckedTool(name=name, description=describe(tool, server.name), coroutine=call,
                             args_schema=arguments_model(name, tool.inputSchema))


def masked_values(value: Any, masked: Redactor) -> Any:
    """``value`` with the configuration's secrets masked in every string: a server that quotes
    the token it was given does not pass it on to the planner, Slack or a sandbox."""
    if not masked.secrets:
        return value
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, dict):
        return {masked(k) if isinstance(k, str) else k: masked_values(v, masked) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_values(item, masked) for item in value]
    return value


class SchemaCheckedTool(StructuredTool):
    """A StructuredTool whose argument model declares no fields (it checks the arguments
    against the server's JSON schema): LangChain would call such a tool with no arguments."""

    def _to_args_and_kwargs(self, tool_input: str | dict[str, Any],
                            tool_call_id: str | None) -> tuple[tuple[str, ...], dict[str, Any]]:
        model = self.args_schema
        if isinstance(tool_input, dict) and isinstance(model, type) \
                and issubclass(model, JsonSchemaArguments):
            return (), model.model_validate(tool_input).model_dump()
        return super()._to_args_and_kwargs(tool_input, tool_call_id)


def describe(tool: types.Tool, server: str) -> str:
    """What the planner reads: the server's description (or title), then what it returns."""
    text = ((tool.description or tool.title or "").strip()
            or f"The '{tool.name}' tool of MCP server '{server}'.")
    if len(text) > DESCRIPTION_CHARS:
        text = text[:DESCRIPTION_CHARS] + "…"
    if not text.endswith((".", "!", "?", "…")):
        text += "."
    return f"{text} {RETURNS}"
