"""Serve an ASGI app with uvicorn on 127.0.0.1 and a free port, inside the running event loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Literal

import uvicorn


class BackgroundServer:
    def __init__(self, app: Any, *, lifespan: Literal["auto", "on", "off"] = "off") -> None:
        # a long keep-alive, so clients that pause (a person reading) do not reuse a closed connection
        self.config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan=lifespan, log_level="warning",
                                     access_log=False, timeout_keep_alive=75)
        self.server = uvicorn.Server(self.config)
        self.task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()  # raise the start-up error
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        await self.task
        self.task = None


class ThreadedServer:
    """Serve an ASGI app with uvicorn on 127.0.0.1 and a free port, in a thread of its own, for
    callers without an event loop or with a loop the app must not share (a model server that
    sleeps to model latency). Start and stop it with ``start()``/``stop()``."""

    def __init__(self, app: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> None:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("server stopped during start-up")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
