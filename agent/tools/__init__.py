"""The tool registry and dagbot's built-in tools."""

from agent.tools.registry import Risk, ToolRegistry, ToolSpec

__all__ = ["Risk", "ToolRegistry", "ToolSpec"]
