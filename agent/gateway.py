"""The tools package code may call: green tools only, arguments checked against their schema."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.errors import ToolError, ToolNotAllowed
from agent.tools.registry import Risk, ToolRegistry, to_jsonable


class GreenToolGateway:
    """Implements :class:`agent.ports.ToolGateway` over the registry.

    The red/green decision is the registry's; a package asking for a red tool is refused
    here whatever its code claims.
    """

    def __init__(self, registry: ToolRegistry, timeout_seconds: float = 30.0) -> None:
        self._registry = registry
        self._timeout = timeout_seconds

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        spec = self._registry.get(name)
        if spec.risk is not Risk.GREEN:
            raise ToolNotAllowed(
                f"'{name}' is a red tool: package code may only call green tools; "
                "red actions must be their own plan node so a human can approve them"
            )
        checked = self._registry.validate_args(name, args)
        try:
            output = await asyncio.wait_for(spec.tool.ainvoke(checked), self._timeout)
        except TimeoutError:
            raise ToolError(f"tool '{name}' took longer than {self._timeout:.0f}s") from None
        return to_jsonable(output)
