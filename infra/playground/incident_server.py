"""The playground's incident tracker as an MCP server (the SDK's FastMCP, over stdio):

    python -m infra.playground.incident_server DATA_FILE

Three reads and two writes on the incidents in DATA_FILE (:mod:`infra.playground.incidents`).
Each tool's annotations say honestly what it does (``readOnlyHint`` on the reads only), but
dagbot does not take a server's word for it: the playground's configuration lists the reads
green, and every other tool is red.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import ToolAnnotations

from infra.playground.incidents import IncidentError, IncidentFile, Status

READ = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)


def tracker_server(data: Path) -> FastMCP:
    incidents = IncidentFile(data)
    server = FastMCP("incident-tracker", log_level="WARNING")

    def told(action: Any) -> Any:
        try:
            return action()
        except IncidentError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(annotations=READ)
    def list_incidents(status: Status | Literal["all"] = "open") -> list[dict[str, Any]]:
        """List the incident tracker's incidents with a status (open, mitigated, resolved, or all):
        id, title, severity, status, owner, when opened, and how many notes each has."""
        return list(told(lambda: incidents.listed(status)))

    @server.tool(annotations=READ)
    def show_incident(incident: str) -> dict[str, Any]:
        """One incident of the tracker by its id (INC-142), with all its notes."""
        return dict(told(lambda: incidents.show(incident)))

    @server.tool(annotations=READ)
    def search_incidents(query: str) -> list[dict[str, Any]]:
        """The tracker's incidents whose id, title, owner or notes hold every word of the query."""
        return list(told(lambda: incidents.search(query)))

    @server.tool(annotations=WRITE)
    def add_note(incident: str, text: str, author: str = "dagbot") -> dict[str, Any]:
        """Add a note to an incident in the tracker (everyone following it sees it). Returns the
        incident's id, its number of notes, and the note added."""
        return dict(told(lambda: incidents.add_note(incident, text, author)))

    @server.tool(annotations=WRITE)
    def set_status(incident: str, status: Status) -> dict[str, Any]:
        """Change an incident's status in the tracker (open, mitigated, resolved). Returns its id,
        its new status and what it was."""
        return dict(told(lambda: incidents.set_status(incident, status)))

    return server


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m infra.playground.incident_server DATA_FILE")
    tracker_server(Path(sys.argv[1])).run("stdio")
