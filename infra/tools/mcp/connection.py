"""One MCP server kept up: its session, restarted with backoff, and calls through it.

A task of its own (:meth:`ServerConnection.start`) opens the transport and a ``ClientSession``
(the SDK's context managers stay in the task that entered them), initializes it, lists the
tools and hands them over (``on_tools``), then watches the connection: the server's
``notifications/tools/list_changed`` lists them again; the end of a stdio server's output (it
exited) or a ping it does not answer ends the session. The task then starts a new one after
a backoff that doubles with each failed start (``restart_backoff_seconds`` up to
``max_restart_backoff_seconds``), until :meth:`close`.

A call (:meth:`ServerConnection.call`) waits a little for a server being restarted, then runs
on the live session against its timeout and the session's end: a call whose server goes away
raises :class:`ConnectionLost`, one past its timeout :class:`CallTimedOut`, one that could not
be sent :class:`ServerUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import ClientSession, McpError, types
from mcp.client.session import MessageHandlerFnT
from mcp.shared.message import SessionMessage
from mcp.shared.session import RequestResponder

from agent.execution.redaction import Redactor
from infra.tools.mcp.config import ServerConfig
from infra.tools.mcp.transports import ServerLog, open_transport

log = structlog.get_logger(__name__)

State = Literal["starting", "connected", "restarting", "stopped"]
RECONNECT_WAIT_SECONDS = 10.0
"""A call to a server being restarted waits this long at most (within its timeout) for it."""
PING_TIMEOUT_SECONDS = 10.0
STABLE_SECONDS = 30.0
"""A session that lasted this long resets the backoff: the next restart comes soon."""
CLOSE_SECONDS = 8.0
"""How long closing waits for a server to stop (the SDK: stdin closed, 2 s, SIGTERM, SIGKILL)."""
_MAX_PAGES = 100


class ServerUnavailable(Exception):
    """The server is not connected: the call was not sent."""


class ConnectionLost(Exception):
    """The connection ended while the call was in flight: it may have run."""


class CallTimedOut(Exception):
    """The call did not finish in time (it may still run on the server)."""


@dataclass(frozen=True)
class _Live:
    session: ClientSession
    ended: asyncio.Event


class _Ended(Exception):
    """The server closed the connection."""


ToolsHandler = Callable[[list[types.Tool]], None]


class ServerConnection:
    """One server of the configuration, kept up from :meth:`start` to :meth:`close`."""

    def __init__(self, server: ServerConfig, on_tools: ToolsHandler,
                 redactor: Redactor | None = None) -> None:
        self.server = server
        self.on_tools = on_tools
        self.redactor = redactor or Redactor()
        self.state: State = "starting"
        self.problem: str | None = None
        """Why the server is not connected (its last failure), secrets masked."""
        self.restarts = 0
        self._live: _Live | None = None
        self._connected = asyncio.Event()
        self._settled = asyncio.Event()
        """Set once the first start has connected or failed."""
        self._stop = asyncio.Event()
        self._wake: asyncio.Queue[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._log: ServerLog | None = None

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def connected(self) -> bool:
        return self._live is not None

    async def start(self) -> bool:
        """Start keeping the server up; wait for its first start (at most its
        ``startup_timeout_seconds``). Whether it is connected."""
        if self.server.transport == "stdio":
            self._log = ServerLog()
        self._task = asyncio.create_task(self._supervise(), name=f"mcp-server:{self.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), self.server.startup_timeout_seconds)
        if not self._settled.is_set():
            self.problem = f"did not finish starting within {self.server.startup_timeout_seconds:g} s"
        return self.connected

    async def close(self) -> None:
        self._stop.set()
        if self._wake is not None:
            self._wake.put_nowait("stop")
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), CLOSE_SECONDS)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            except Exception:
                log.exception("an MCP server's supervisor failed", server=self.name)
        self.state = "stopped"
        if self._log is not None:
            self._log.close()

    # ------------------------------------------------------------------ calls

    async def call(self, tool: str, arguments: dict[str, Any], seconds: float) -> types.CallToolResult:
        """Call ``tool``; the whole (a wait for a restarting server included) within ``seconds``."""
        timeout = seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        live = self._live
        if live is None and not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), min(timeout, RECONNECT_WAIT_SECONDS))
            live = self._live
        if live is None:
            raise ServerUnavailable(self.problem or f"it is {self.state}")
        request = asyncio.ensure_future(live.session.call_tool(tool, arguments))
        ended = asyncio.ensure_future(live.ended.wait())
        try:
            done, _ = await asyncio.wait({request, ended}, timeout=max(0.0, deadline - loop.time()),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            if not request.done():
                request.cancel()
        if request in done:
            try:
                return request.result()
            except McpError as exc:
                if exc.error.code == types.CONNECTION_CLOSED:
                    raise ConnectionLost(exc.error.message) from None
                raise
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                # the session closed before the request could be written: it was not sent
                raise ServerUnavailable(self.problem or "the connection was closing") from None
        if not request.cancelled() and request.done():
            request.exception()  # (retrieved: the session's end is what is told)
        if ended in done:
            raise ConnectionLost(self.problem or "the connection ended")
        raise CallTimedOut()

    # ------------------------------------------------------------ supervision

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stop.is_set():
            began = loop.time()
            try:
                await self._run_session()
                why = "the connection ended"
            except Exception as exc:
                why = self._describe(exc)
            if self._stop.is_set():
                break
            lasted = loop.time() - began
            failures = 1 if lasted >= STABLE_SECONDS else failures + 1
            delay = min(self.server.max_restart_backoff_seconds,
                        self.server.restart_backoff_seconds * 2 ** (failures - 1))
            self.state, self.problem = "restarting", why
            self._settled.set()
            log.warning("MCP server not connected; starting it again", server=self.name, why=why,
                        in_seconds=round(delay, 2), failures=failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            self.restarts += 1
        self.state = "stopped"

    async def _run_session(self) -> None:
        wake: asyncio.Queue[str] = asyncio.Queue()
        self._wake = wake
        async with open_transport(self.server, self._log) as (read, write):
            inner_send, inner_read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
            async with anyio.create_task_group() as group:
                group.start_soon(_forward, read, inner_send, wake)
                try:
                    async with ClientSession(inner_read, write, message_handler=_handler(wake),
                                             client_info=CLIENT_INFO) as session:
                        with anyio.fail_after(self.server.startup_timeout_seconds):
                            await session.initialize()
                            tools = await _all_tools(session)
                        self._hand_over(tools)
                        await self._connected_to(session, wake)
                finally:
                    group.cancel_scope.cancel()

    async def _connected_to(self, session: ClientSession, wake: asyncio.Queue[str]) -> None:
        live = _Live(session, asyncio.Event())
        self._live, self.state, self.problem = live, "connected", None
        self._connected.set()
        self._settled.set()
        log.info("MCP server connected", server=self.name, transport=self.server.transport)
        try:
            while True:
                try:
                    reason = await asyncio.wait_for(wake.get(), self.server.ping_seconds)
                except TimeoutError:
                    reason = "ping"
                if reason == "stop":
                    return
                if reason == "lost":
                    raise _Ended("the server closed the connection")
                with anyio.fail_after(PING_TIMEOUT_SECONDS if reason == "ping" else
                                      self.server.startup_timeout_seconds):
                    if reason == "ping":
                        await session.send_ping()
                        if self._log is not None:
                            self._log.trim()
                    else:  # "tools": notifications/tools/list_changed
                        self._hand_over(await _all_tools(session))
        finally:
            self._live = None
            self._connected.clear()
            if not self._stop.is_set():
                self.state = "restarting"
            live.ended.set()

    def _hand_over(self, tools: list[types.Tool]) -> None:
        try:
            self.on_tools(tools)
        except Exception:
            log.exception("could not register an MCP server's tools", server=self.name)

    def _describe(self, exc: BaseException) -> str:
        """Why the session failed or ended, on one line, secrets masked."""
        leaves = list(_leaves(exc))
        leaf = next((e for e in leaves if not isinstance(e, anyio.get_cancelled_exc_class())), exc)
        if isinstance(leaf, TimeoutError):
            why = "the server did not answer in time (its start, a tools/list or a ping)"
        elif isinstance(leaf, FileNotFoundError) and self.server.command:
            why = f"cannot run '{self.server.command}': no such program (is it installed, on PATH?)"
        elif isinstance(leaf, _Ended):
            why = str(leaf)
        elif isinstance(leaf, OSError):
            why = f"{type(leaf).__name__}: {leaf.strerror or leaf}"
        elif isinstance(leaf, McpError):
            why = f"the server answered with an error: {leaf.error.message}"
        else:
            why = f"{type(leaf).__name__}: {leaf}".rstrip(": ")
        tail = self._log.tail() if self._log is not None else ""
        if tail:
            why += f" (its stderr: {tail})"
        return self.redactor(why)


CLIENT_INFO = types.Implementation(name="dagbot", version="0.1.0")


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


async def _forward(read: MemoryObjectReceiveStream[SessionMessage | Exception],
                   send: MemoryObjectSendStream[SessionMessage | Exception],
                   wake: asyncio.Queue[str]) -> None:
    """Pass the transport's messages to the session; when they end (the server exited), say so."""
    try:
        async with send:
            async for message in read:
                await send.send(message)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        return
    wake.put_nowait("lost")


def _handler(wake: asyncio.Queue[str]) -> MessageHandlerFnT:
    async def handle(message: RequestResponder[types.ServerRequest, types.ClientResult]
                     | types.ServerNotification | Exception) -> None:
        if isinstance(message, types.ServerNotification) and isinstance(
                message.root, types.ToolListChangedNotification):
            wake.put_nowait("tools")
        elif isinstance(message, Exception):
            log.debug("an MCP server sent what could not be read", error=type(message).__name__)

    return handle


async def _all_tools(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        asked = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=asked)
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            break
    return tools
