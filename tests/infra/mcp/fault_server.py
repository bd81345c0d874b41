"""A small MCP server (the SDK's FastMCP) whose tools misbehave on purpose, for the MCP client's
tests: ``python -m tests.infra.mcp.fault_server stdio``, ``... http PORT`` (Streamable HTTP at
``/mcp``) or ``... sse PORT`` (the older SSE transport, at ``/sse``).

Every tool but ``record`` and ``record_and_hold`` declares ``readOnlyHint`` (a server's word,
which only a configuration that trusts it believes); both append their ``text`` to the file
FAULT_SERVER_LOG names, so a test can count the calls that ran.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import ImageContent, TextContent, ToolAnnotations

READ_ONLY = ToolAnnotations(readOnlyHint=True)
server = FastMCP("faults", log_level="WARNING")


@server.tool(annotations=READ_ONLY)
def echo(text: str, times: int = 1) -> str:
    """Say the text back. Returns the text, repeated."""
    return text * times


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
def record(text: str) -> str:
    """Append a line to the server's log file. Returns 'recorded'."""
    with open(os.environ["FAULT_SERVER_LOG"], "a", encoding="utf-8") as log:
        log.write(text + "\n")
    return "recorded"


@server.tool()
async def record_and_hold(text: str) -> str:
    """Append a line to the log file (and the server's pid to the file beside it, ``.pids``),
    then, while FAULT_SERVER_HOLD is set, never answer: the effect has happened and the caller
    cannot know (a process killed around a red call)."""
    with open(os.environ["FAULT_SERVER_LOG"] + ".pids", "a", encoding="utf-8") as pids:
        pids.write(f"{os.getpid()}\n")
    with open(os.environ["FAULT_SERVER_LOG"], "a", encoding="utf-8") as log:
        log.write(text + "\n")
    while os.environ.get("FAULT_SERVER_HOLD"):
        await asyncio.sleep(3600)
    return "recorded"


@server.tool(annotations=READ_ONLY)
async def crash(after_seconds: float = 0.2) -> str:
    """Exit the server's process in the middle of the call."""
    await asyncio.sleep(after_seconds)
    os._exit(3)


@server.tool(annotations=READ_ONLY)
async def hang() -> str:
    """Never answer."""
    await asyncio.sleep(3600)
    return "unreachable"


@server.tool(annotations=READ_ONLY, structured_output=False)
def big(megabytes: float = 10) -> str:
    """Return this many megabytes of text."""
    return "x" * int(megabytes * 1_000_000)


@server.tool(annotations=READ_ONLY)
def fail(reason: str = "the disk is full") -> str:
    """Fail with the reason (an isError result)."""
    raise ToolError(reason)


@server.tool(annotations=READ_ONLY)
def picture() -> list[TextContent | ImageContent]:
    """A caption and a small PNG image."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 56).decode()
    return [TextContent(type="text", text="a caption"), ImageContent(type="image", data=png, mimeType="image/png")]


@server.tool(annotations=READ_ONLY)
def stats(service: str) -> dict[str, int | str]:
    """Counters of a service, as structured content."""
    return {"service": service, "requests": 42, "errors": 1}


@server.tool(annotations=READ_ONLY)
def env_var(name: str, fail: bool = False) -> str:
    """A variable of the server's environment (a server that leaks the secrets it was given)."""
    if fail:
        raise ToolError(f"cannot use {os.environ.get(name)}")
    return f"{name}={os.environ.get(name)}"


@server.tool(annotations=READ_ONLY)
def pid() -> int:
    """The server's process id."""
    return os.getpid()


def late(text: str) -> str:
    """A tool added while the server runs."""
    return f"late: {text}"


@server.tool(annotations=READ_ONLY)
async def grow(ctx: Context) -> str:  # type: ignore[type-arg]
    """Add the tool 'late' and drop 'pid', then tell the client its tool list changed."""
    server.add_tool(late, annotations=READ_ONLY)
    server.remove_tool("pid")
    await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    if sys.argv[1] in ("http", "sse"):
        server.settings.port = int(sys.argv[2])
        server.run("streamable-http" if sys.argv[1] == "http" else "sse")
    else:
        server.run("stdio")
