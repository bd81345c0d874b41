"""An ASGI app served by uvicorn on 127.0.0.1 and a free port, for a stand-in or an app under test.

:class:`BackgroundServer` serves inside the running event loop, started and stopped by hand
(:func:`infra.operations.embedded_server.serving` does the serving); :class:`ThreadedServer`
serves in a thread of its own, for callers without an event loop or with a loop the app must
not share (a model server that sleeps to model latency).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Literal

import uvicorn

from infra.operations.embedded_server import serving


class BackgroundServer:
    def __init__(self, app: Any, *, lifespan: Literal["auto", "on", "off"] = "off") -> None:
        self.app, self.lifespan = app, lifespan
        self.url = ""
        self.port = 0
        self._stack: contextlib.AsyncExitStack | None = None

    async def start(self) -> str:
        stack = contextlib.AsyncExitStack()
        self.url = await stack.enter_async_context(serving(self.app, lifespan=self.lifespan))
        self.port = int(self.url.rsplit(":", 1)[1])
        self._stack = stack
        return self.url

    async def stop(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()


class ThreadedServer:
    """Start and stop it with ``start()``/``stop()``."""

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
