"""Simulated tools for engine tests: they record every call and can be held at a gate."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agent.errors import ToolError
from agent.tools.registry import Risk, ToolRegistry


@dataclass
class ToolLog:
    """What the simulated tools did, in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    delays: dict[str, float] = field(default_factory=dict)

    def count(self, tool: str) -> int:
        return sum(1 for name, _ in self.calls if name == tool)

    def args_of(self, tool: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == tool]


class LookupArgs(BaseModel):
    key: str = Field(description="What to look up.")
    gate: str | None = Field(default=None, description="Test only: wait for this gate.")


class DeployArgs(BaseModel):
    target: str
    note: str = ""


class ScaleArgs(BaseModel):
    service: str = Field(description="Which service.")
    replicas: int = Field(ge=1, le=20, description="How many replicas, 1 to 20.")
    token: str | None = Field(default=None, description="The API token.", json_schema_extra={"secret": True})


class SendArgs(BaseModel):
    to: str
    body: str


def simulated_registry(log: ToolLog) -> ToolRegistry:
    async def lookup(key: str, gate: str | None = None) -> str:
        log.calls.append(("lookup", {"key": key}))
        log.timeline.append((time.monotonic(), f"lookup:{key}:start"))
        if gate:
            await log.gates[gate].wait()
        await asyncio.sleep(log.delays.get(key, 0))
        log.timeline.append((time.monotonic(), f"lookup:{key}:end"))
        return f"value of {key}"

    async def broken(key: str, gate: str | None = None) -> str:
        log.calls.append(("broken", {"key": key}))
        raise ToolError(f"the lookup service has no entry for '{key}'")

    async def deploy(target: str, note: str = "") -> dict[str, str]:
        log.calls.append(("deploy", {"target": target, "note": note}))
        return {"deployed": target}

    async def scale(service: str, replicas: int, token: str | None = None) -> dict[str, Any]:
        log.calls.append(("scale", {"service": service, "replicas": replicas, "token": token}))
        return {"scaled": service, "replicas": replicas}

    async def send(to: str, body: str) -> dict[str, str]:
        log.calls.append(("send", {"to": to, "body": body}))
        return {"sent_to": to}

    registry = ToolRegistry()
    registry.add(StructuredTool.from_function(coroutine=lookup, name="lookup",
                                              description="Look a key up.", args_schema=LookupArgs),
                 Risk.GREEN)
    registry.add(StructuredTool.from_function(coroutine=broken, name="broken",
                                              description="Always fails.", args_schema=LookupArgs),
                 Risk.GREEN)
    registry.add(StructuredTool.from_function(coroutine=deploy, name="deploy",
                                              description="Deploy a target.", args_schema=DeployArgs),
                 Risk.RED)
    registry.add(StructuredTool.from_function(coroutine=scale, name="scale",
                                              description="Scale a service.", args_schema=ScaleArgs),
                 Risk.RED)
    registry.add(StructuredTool.from_function(coroutine=send, name="send",
                                              description="Send a message.", args_schema=SendArgs),
                 Risk.RED)
    return registry


def files_registry(files: Mapping[str, str] | str) -> ToolRegistry:
    """A registry of one green ``read_file`` that returns ``files[path]`` (a text alone: every
    path holds it), no outputs' keys declared."""
    async def read_file(path: str) -> dict[str, str]:
        return {"path": path, "content": files if isinstance(files, str) else files[path]}

    registry = ToolRegistry()
    registry.add(StructuredTool.from_function(coroutine=read_file, name="read_file", description="Read a file."),
                 Risk.GREEN)
    return registry


def reading_registry(log: ToolLog) -> ToolRegistry:
    """The simulated tools and a ``read_file`` whose every file holds "text of <path>"."""
    async def read_file(path: str) -> dict[str, Any]:
        log.calls.append(("read_file", {"path": path}))
        return {"path": path, "content": f"text of {path}"}

    registry = simulated_registry(log)
    registry.add(StructuredTool.from_function(coroutine=read_file, name="read_file", description="Read a file."),
                 Risk.GREEN, returns=("path", "content"))
    return registry
