"""A custom tool module, as a team would write one for DAGBOT_TOOLS."""

from langchain_core.tools import tool

from agent.tools.registry import Risk, ToolRegistry


@tool
async def restart_service(name: str) -> str:
    """Restart a service by name. Returns its new status."""
    return f"{name} restarted"


@tool
async def service_status(name: str) -> str:
    """Show a service's status."""
    return f"{name} is running"


def register(registry: ToolRegistry) -> None:
    registry.add(restart_service, Risk.RED)
    registry.add(service_status, Risk.GREEN)
