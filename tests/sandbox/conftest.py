"""Fixtures for the sandbox tests: real backends, a local HTTP server, a tool registry.

Every backend test runs against docker, bubblewrap with the sandbox rootfs, and bubblewrap
with the host's /usr (its fallback). A backend that cannot run on this machine is skipped,
with the reason, locally; under CI (``CI`` set, and not "false" or "0") it fails the test
instead, as a missing PostgreSQL does (tests/conftest.py). `make test`
(infra/scripts/system-setup.sh) prepares all three.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from langchain_core.tools import StructuredTool

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from agent.tools.registry import Risk, ToolRegistry
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox

HOW_TO_FIX = "run `make system` (infra/scripts/system-setup.sh) as root"


def running_in_ci() -> bool:
    """CI set to anything but "", "false" or "0" (what CI services export)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "false", "0")


def backend_missing(reason: str) -> None:
    """Skip the test locally; fail it under CI, where every backend must run."""
    if running_in_ci():
        pytest.fail(f"{reason} (CI is set: sandbox backends must run here)", pytrace=False)
    pytest.skip(reason)


def _docker() -> tuple[Sandbox, str | None]:
    backend = DockerSandbox()
    return backend, backend.problem()


def _bwrap_rootfs() -> tuple[Sandbox, str | None]:
    backend = BwrapSandbox()
    problem = backend.probe()
    if problem is None and backend.rootfs is None:
        problem = "the sandbox rootfs is missing"
    return backend, problem


def _bwrap_host() -> tuple[Sandbox, str | None]:
    backend = BwrapSandbox(rootfs=None)
    return backend, backend.probe()


BACKEND_FACTORIES = {"docker": _docker, "bwrap": _bwrap_rootfs, "bwrap-hostfs": _bwrap_host}


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("docker", marks=pytest.mark.docker),
        pytest.param("bwrap", marks=pytest.mark.bwrap),
        pytest.param("bwrap-hostfs", marks=pytest.mark.bwrap),
    ],
)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    return usable_backend(request.param)


def usable_backend(name: str) -> Sandbox:
    """The backend variant ``name`` of BACKEND_FACTORIES; skips or fails when it cannot run."""
    backend, problem = BACKEND_FACTORIES[name]()
    if problem:
        backend_missing(f"sandbox backend {name} cannot run here: {problem}; {HOW_TO_FIX}")
    return backend


@pytest.fixture
def limits() -> SandboxLimits:
    return SandboxLimits(wall_seconds=10, memory_mb=128, pids=32, output_bytes=64_000,
                         tool_calls=5, tool_timeout_seconds=2)


# ------------------------------------------------------------- local HTTP server


@dataclass
class LocalServer:
    url: str
    port: int
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def http_server() -> Iterator[LocalServer]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/page"):
                size = int(self.path.rsplit("=", 1)[-1]) if "=" in self.path else 1000
                body = ("<html><body>" + "<p>dag</p>" * (size // 10) + "</body></html>").encode()
                kind = "text/html"
            else:
                body = b'{"items": ["alpha", "beta", "gamma"]}'
                kind = "application/json"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield LocalServer(url=f"http://127.0.0.1:{port}", port=port, requests=seen)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- tools


@dataclass
class SideEffects:
    emails: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def side_effects() -> SideEffects:
    return SideEffects()


@pytest.fixture
def registry(side_effects: SideEffects) -> ToolRegistry:
    async def http_get(url: str) -> str:
        """Fetch a URL and return the response body as text."""
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.text

    async def echo(text: str, times: int = 1) -> dict[str, Any]:
        """Return the text, repeated."""
        return {"text": text * times}

    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await asyncio.sleep(seconds)
        return "late"

    async def send_email(to: str, body: str) -> str:
        """Send an email (red: changes the world)."""
        side_effects.emails.append({"to": to, "body": body})
        return "sent"

    registry = ToolRegistry()
    for func, risk in ((http_get, Risk.GREEN), (echo, Risk.GREEN), (slow, Risk.GREEN),
                       (send_email, Risk.RED)):
        registry.add(StructuredTool.from_function(coroutine=func, name=func.__name__), risk)
    return registry


@pytest.fixture
def gateway(registry: ToolRegistry, limits: SandboxLimits) -> GreenToolGateway:
    return GreenToolGateway(registry, limits.tool_timeout_seconds)
