"""Host side of the tool bridge: package code's ``tools.NAME(**kw)`` ends up here.

The gateway (implemented by the engine, or :class:`agent.execution.gateway.GreenToolGateway`)
decides what may run: green tools only, arguments validated. The bridge adds what holds for
every gateway: a per-attempt call budget (``SandboxLimits.tool_calls``), a per-call timeout
(``SandboxLimits.tool_timeout_seconds``), and JSON-only answers. Every refusal or failure
becomes a reply frame that raises the matching exception inside the script.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agent.errors import ToolArgumentError, ToolError, ToolNotAllowed
from agent.ports.sandbox import SandboxLimits, ToolGateway
from agent.tools.registry import to_jsonable


class ToolBridge:
    """Answers ``call`` frames from one sandbox run."""

    def __init__(self, gateway: ToolGateway, limits: SandboxLimits) -> None:
        self.gateway = gateway
        self.limits = limits
        self.calls = 0

    async def handle(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Run one call frame; return the reply frame (never raises for tool problems)."""
        reply: dict[str, Any] = {"t": "reply", "id": frame.get("id")}
        name, args = frame.get("name"), frame.get("args")
        self.calls += 1
        if self.calls > self.limits.tool_calls:
            return reply | _refusal(
                "ToolBudgetExceeded",
                f"tool-call budget exhausted: a package may make at most "
                f"{self.limits.tool_calls} tool calls",
            )
        if not isinstance(name, str) or not isinstance(args, dict):
            return reply | _refusal("ToolArgumentError", "malformed tool call")
        timeout = self.limits.tool_timeout_seconds
        try:
            value = await asyncio.wait_for(self.gateway.call(name, args), timeout)
        except TimeoutError:
            return reply | _refusal(
                "ToolTimeout", f"tool '{name}' did not answer within {timeout:g} s"
            )
        except ToolNotAllowed as exc:
            return reply | _refusal("ToolNotAllowed", str(exc))
        except ToolArgumentError as exc:
            return reply | _refusal("ToolArgumentError", str(exc))
        except ToolError as exc:
            return reply | _refusal("ToolError", str(exc))
        except Exception as exc:
            return reply | _refusal("ToolError", f"tool '{name}' failed: {type(exc).__name__}: {exc}")
        return reply | {"ok": True, "value": to_jsonable(value)}


def _refusal(error_type: str, message: str) -> dict[str, Any]:
    return {"ok": False, "type": error_type, "error": message}
