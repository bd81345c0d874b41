"""The backend used when no sandbox can run here: every run fails, saying how to fix it.

Package code is never run in-process or as a plain subprocess instead.
"""

from __future__ import annotations

from typing import Any

from agent.ports import SandboxLimits, SandboxResult, ToolGateway

INSTALL_HINT = (
    "install a sandbox backend: Docker (apt-get install docker.io; start dockerd; then "
    "`make sandbox-image`) or bubblewrap (apt-get install bubblewrap); "
    "`make system` does all of it on Debian"
)


class UnavailableSandbox:
    """Refuses every package run with a clear message."""

    name = "unavailable"

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons

    @property
    def message(self) -> str:
        why = "; ".join(self.reasons) or "no backend found"
        return f"package code cannot run: no sandbox is available ({why}). To fix: {INSTALL_HINT}"

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult:
        return SandboxResult(ok=False, error_type="SandboxUnavailable", error=self.message)
