"""Serve an ASGI app with uvicorn on 127.0.0.1 and a free port, inside the running event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn


class BackgroundServer:
    def __init__(self, app: Any, *, lifespan: str = "off") -> None:
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
