"""Docker's attach stream, read only as fast as the host takes frames (flow control).

The engine multiplexes the container's stdout and stderr into one stream of chunks (8-byte
header: stream, 0, 0, 0, size; then the data). Earlier this was split by a task into two
unbounded StreamReaders, so a package flooding its channel while the host served a tool call
grew dagbot's memory without limit. Here nothing is read until the session asks for the next
frame: while the host is busy, the socket, the engine's copy and the container's pipe fill up
and the package's writes block, as they do under bubblewrap. What is held is bounded: at most
the frame being read (``read_frame`` checks its size first) plus one engine chunk; stderr
goes straight into its capped sink.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sandbox.protocol import ProtocolViolation

STDERR = 2
MAX_CHUNK = 4 << 20
"""The engine sends chunks of at most its copy buffer (32 KiB); anything far larger is not
the engine speaking."""


class AttachStream:
    """The stdout side of an attach stream as a frame source; stderr goes to ``on_stderr``."""

    def __init__(self, reader: asyncio.StreamReader, on_stderr: Callable[[bytes], None]) -> None:
        self.reader = reader
        self.on_stderr = on_stderr
        self.pending = bytearray()
        """stdout bytes read but not yet taken: less than one frame plus one chunk."""

    async def _pull(self) -> bool:
        """Read the next chunk; False at the end of the stream."""
        try:
            header = await self.reader.readexactly(8)
            size = int.from_bytes(header[4:8], "big")
            if size > MAX_CHUNK:
                raise ProtocolViolation(f"an attach chunk of {size} bytes exceeds {MAX_CHUNK}")
            data = await self.reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
        if header[0] == STDERR:
            self.on_stderr(data)
        else:
            self.pending += data
        return True

    async def readexactly(self, n: int) -> bytes:
        while len(self.pending) < n:
            if not await self._pull():
                partial = bytes(self.pending)
                self.pending.clear()
                raise asyncio.IncompleteReadError(partial, n)
        data = bytes(self.pending[:n])
        del self.pending[:n]
        return data

    async def drain(self) -> None:
        """Read to the end: the last stderr bytes after ``done``; stdout is dropped."""
        while await self._pull():
            self.pending.clear()
