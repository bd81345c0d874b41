"""Opening a server's transport with the official SDK: stdio (a process dagbot starts),
Streamable HTTP, or SSE for servers that still need it.

A stdio server's stderr goes to a file of its own (:class:`ServerLog`), whose last lines explain
a server that would not start or died; they are shown with the configuration's secrets masked.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.message import SessionMessage

from infra.tools.mcp.config import ServerConfig

Streams = tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
STDERR_TAIL_BYTES = 4_000
STDERR_KEPT_BYTES = 1_000_000


class ServerLog:
    """A stdio server's stderr, kept in an unnamed temporary file that the server writes to
    directly (the file shares its offset with the server's stderr: reads here do not move it)
    and that :meth:`trim` keeps small."""

    def __init__(self) -> None:
        self.file: TextIO = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115

    def _last_bytes(self, count: int) -> bytes:
        fd = self.file.fileno()
        size = os.fstat(fd).st_size
        return os.pread(fd, count, max(0, size - count))

    def tail(self, lines: int = 5) -> str:
        """Its last lines (at most :data:`STDERR_TAIL_BYTES`), on one line."""
        try:
            text = self._last_bytes(STDERR_TAIL_BYTES).decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())

    def trim(self, most_bytes: int = STDERR_KEPT_BYTES) -> None:
        """Past ``most_bytes``, keep only the tail (a server that logs a lot fills no disk)."""
        try:
            if os.fstat(self.file.fileno()).st_size <= most_bytes:
                return
            kept = self._last_bytes(STDERR_TAIL_BYTES).decode("utf-8", errors="replace")
            self.file.truncate(0)
            self.file.seek(0)
            self.file.write(kept)
            self.file.flush()
        except (OSError, ValueError):
            return

    def close(self) -> None:
        self.file.close()


@asynccontextmanager
async def open_transport(server: ServerConfig, log: ServerLog | None = None) -> AsyncIterator[Streams]:
    """The read and write streams of a new connection to ``server`` (a stdio server's stderr
    to ``log``, else to dagbot's)."""
    if server.transport == "stdio":
        assert server.command is not None
        params = StdioServerParameters(command=server.command, args=server.args, env=server.env or None,
                                       cwd=server.cwd)
        async with stdio_client(params, errlog=log.file if log else sys.stderr) as (read, write):
            yield read, write
        return
    assert server.url is not None
    # (the SDK's HTTP timeouts: a server may hold a response stream open; a call's own timeout
    # is the connection's, see infra.tools.mcp.connection)
    if server.transport == "sse":
        async with sse_client(server.url, headers=server.headers or None) as (read, write):
            yield read, write
        return
    async with create_mcp_http_client(headers=server.headers or None) as client, \
            streamable_http_client(server.url, http_client=client) as (read, write, _):
        yield read, write
