"""The backend used when no sandbox (or not the one named in SANDBOX_BACKEND) can run here:
every run fails, saying what is wrong and how to fix it.

Package code is never run in-process or as a plain subprocess instead.
"""

from __future__ import annotations

from typing import Any

from agent.ports.sandbox import SandboxLimits, SandboxResult, ToolGateway

INSTALL_HINT = (
    "install a sandbox backend: Docker (apt-get install docker.io; start dockerd; then "
    "`make sandbox-image`) or bubblewrap (apt-get install bubblewrap); "
    "`make system` does all of it on Debian"
)


class UnavailableSandbox:
    """Refuses every package run with a clear message."""

    name = "unavailable"

    def __init__(self, reasons: list[str], *, requested: str | None = None) -> None:
        self.reasons = reasons
        self.requested = requested
        """The backend named in SANDBOX_BACKEND, when one was (None for ``auto``)."""

    @property
    def message(self) -> str:
        why = "; ".join(self.reasons) or "no backend found"
        if self.requested:
            what = f"the {self.requested} sandbox (SANDBOX_BACKEND={self.requested}) cannot run here"
        else:
            what = "no sandbox is available"
        return f"package code cannot run: {what} ({why}). To fix: {INSTALL_HINT}"

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult:
        return SandboxResult(ok=False, error_type="SandboxUnavailable", error=self.message)
