"""The green tool bench.e2e_mcp calls both ways: ``lookup``, registered directly (a
DAGBOT_TOOLS module: :func:`register`) and served by a FastMCP server over stdio
(``python -m bench.mcp_lookup``), where dagbot registers it as ``bench__lookup``.

It answers at once, so what a call costs beyond it is the path to it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool

from agent.tools.registry import Risk, ToolRegistry

DESCRIPTION = "Look a key up in the bench's table. Returns the key, its value and the value's size."


def lookup(key: str) -> dict[str, Any]:
    value = f"the value of {key}"
    return {"key": key, "value": value, "size": len(value)}


async def _lookup(key: str) -> dict[str, Any]:
    return lookup(key)


def register(registry: ToolRegistry) -> None:
    registry.add(StructuredTool.from_function(coroutine=_lookup, name="lookup", description=DESCRIPTION),
                 Risk.GREEN)


if __name__ == "__main__":
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("bench", log_level="WARNING")
    server.tool(description=DESCRIPTION)(lookup)
    server.run("stdio")
