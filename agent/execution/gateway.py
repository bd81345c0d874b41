"""The tools package code may call: green tools only, arguments checked against their schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from agent.errors import ToolError, ToolNotAllowed
from agent.tools.registry import Risk, ToolRegistry, to_jsonable


class GreenToolGateway:
    """Implements :class:`agent.ports.sandbox.ToolGateway` over the registry.

    The red/green decision is the registry's; a package asking for a red or unknown tool is
    refused with ToolNotAllowed whatever its code claims. Arguments are validated with
    ``registry.validate_args`` (ToolArgumentError); any other failure becomes ToolError.
    The per-attempt call budget is the bridge's (:class:`sandbox.bridge.ToolBridge`); the
    per-call timeout is enforced there and here, so the gateway is safe on its own.

    ``invoke`` makes the validated call; the engine passes one that applies the tool's retry
    policy and the thread's result reuse (:func:`agent.execution.green_calls.call_green`), as for a tool
    node. The default calls the tool once.
    """

    def __init__(self, registry: ToolRegistry, timeout_seconds: float = 30.0,
                 invoke: Callable[[str, dict[str, Any]], Awaitable[Any]] | None = None,
                 refused: Mapping[str, str] | None = None) -> None:
        self.registry = registry
        self.refused = dict(refused or {})
        """Tools the requester may not use (the access policy), with why; not in ``registry``."""
        self.timeout_seconds = timeout_seconds
        self._invoke = invoke or self._call_once

    async def _call_once(self, name: str, args: dict[str, Any]) -> Any:
        return await self.registry.get(name).tool.ainvoke(args)

    def green_tools(self) -> list[str]:
        return self.registry.names(Risk.GREEN)

    def describe(self) -> str:
        """One line per green tool (name, arguments, first line of its description)."""
        lines = []
        for spec in self.registry:
            if spec.risk is not Risk.GREEN:
                continue
            params = ", ".join(spec.json_schema().get("properties", {}))
            summary = (spec.description.strip().splitlines() or [""])[0]
            lines.append(f"- tools.{spec.name}({params}): {summary}")
        return "\n".join(lines)

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        if name in self.refused:
            raise ToolNotAllowed(f"tool '{name}' is not allowed: {self.refused[name]}")
        if name not in self.registry:
            known = ", ".join(self.green_tools()) or "none"
            raise ToolNotAllowed(f"unknown tool '{name}' (tools a package may call: {known})")
        spec = self.registry.get(name)
        if spec.risk is not Risk.GREEN:
            raise ToolNotAllowed(
                f"'{name}' is a red tool (it changes something), so package code may not call "
                "it; red tools run as their own plan node, after a human approves"
            )
        valid = self.registry.validate_args(name, args)
        timeout = self.timeout_seconds
        try:
            value = await asyncio.wait_for(self._invoke(name, valid), timeout)
        except ToolError:
            raise
        except TimeoutError:
            raise ToolError(f"tool '{name}' did not answer within {timeout:g} s") from None
        except Exception as exc:
            raise ToolError(f"tool '{name}' failed: {type(exc).__name__}: {exc}") from exc
        return to_jsonable(value)
