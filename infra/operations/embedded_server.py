"""An ASGI app served by uvicorn inside the running event loop, beside dagbot's own server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import Any, Literal

import uvicorn


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The process's own server (or CLI) handles SIGINT/SIGTERM and stops this one.
        yield


@contextlib.asynccontextmanager
async def serving(app: Any, host: str = "127.0.0.1", port: int = 0, *,
                  lifespan: Literal["auto", "on", "off"] = "off") -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` (0: a free port) until the block ends; yields its URL."""
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on each connection accepted (it checks the
    # socket's protocol): without it, a response written in two pieces waits ~40 ms for the
    # client's delayed ACK (Nagle's algorithm)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # a long keep-alive, so a client that pauses does not reuse a connection the server closed
    server = _EmbeddedServer(uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                                            lifespan=lifespan, timeout_keep_alive=75,
                                            timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"serve-{host}:{port}")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"the server on {host}:{port} stopped while starting")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()
