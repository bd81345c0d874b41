"""The playground's incident tracker: its data, and the MCP configuration that connects it.

The tracker is an MCP server of the playground's own (:mod:`infra.playground.incident_server`,
the SDK's FastMCP over stdio) so a newcomer sees MCP tools planned, approved and audited. Its
incidents live in a small JSON file in the playground's directory, seeded afresh at each start
(like the demo workspace); the reads and writes below are what the server's tools do.

:func:`connect_tracker` writes the ``mcpServers`` file that names the server, unless
DAGBOT_MCP_CONFIG names one already (the operator's servers win; add ``tracker`` to that file
to keep it). The file, not the server, decides each tool's risk: the reads are listed green,
so every other tool (the writes) is red.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from infra.settings import Settings

SERVER = "tracker"
SERVER_MODULE = "infra.playground.incident_server"
READS = ("list_incidents", "show_incident", "search_incidents")
"""The tools the playground's configuration makes green; the others (add_note, set_status) are red."""
Status = Literal["open", "mitigated", "resolved"]
STATUSES: tuple[Status, ...] = ("open", "mitigated", "resolved")

SEED: list[dict[str, Any]] = [
    {"id": "INC-140", "title": "Search index lagging behind writes", "severity": "SEV3", "status": "resolved",
     "owner": "dev", "opened": "2026-11-22T06:12:00Z",
     "notes": [{"at": "2026-11-22T07:40:00Z", "author": "dev", "text": "Reindex done; lag under 5 s."}]},
    {"id": "INC-141", "title": "Cart API 5xx after deploying 2.3.2", "severity": "SEV2", "status": "resolved",
     "owner": "maria", "opened": "2026-11-22T07:05:00Z",
     "notes": [{"at": "2026-11-22T07:31:00Z", "author": "maria", "text": "Rolled back to 2.3.1."}]},
    {"id": "INC-142", "title": "Checkout latency above SLO", "severity": "SEV2", "status": "open",
     "owner": "maria", "opened": "2026-11-22T09:42:00Z",
     "notes": [{"at": "2026-11-22T09:44:00Z", "author": "maria",
                "text": "Checkout times out calling payments; the provider answers 503."}]},
    {"id": "INC-143", "title": "Payment webhooks fail their signature check", "severity": "SEV3",
     "status": "open", "owner": "dev", "opened": "2026-11-22T09:46:00Z", "notes": []},
]


class IncidentError(ValueError):
    """A request the tracker cannot do (an unknown incident, an empty note): its words are the reason."""


class IncidentFile:
    """The incidents in one JSON file; every change is written whole and renamed into place."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def seed(self) -> Path:
        self._save(SEED)
        return self.path

    def listed(self, status: Status | Literal["all"] = "open") -> list[dict[str, Any]]:
        return [summary(i) for i in self._load() if status == "all" or i["status"] == status]

    def show(self, incident: str) -> dict[str, Any]:
        return self._find(self._load(), incident)

    def search(self, query: str) -> list[dict[str, Any]]:
        words = query.lower().split()
        if not words:
            raise IncidentError("give some words to search for")
        found = []
        for item in self._load():
            said = [item["id"], item["title"], item["owner"], *(n["text"] for n in item["notes"])]
            text = " ".join(said).lower()
            if all(word in text for word in words):
                found.append(summary(item))
        return found

    def add_note(self, incident: str, text: str, author: str) -> dict[str, Any]:
        if not text.strip():
            raise IncidentError("the note is empty: say what to add")
        items = self._load()
        item = self._find(items, incident)
        item["notes"].append({"at": _now(), "author": author.strip() or "dagbot", "text": text.strip()})
        self._save(items)
        return {"id": item["id"], "notes": len(item["notes"]), "added": text.strip()}

    def set_status(self, incident: str, status: Status) -> dict[str, Any]:
        if status not in STATUSES:
            raise IncidentError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
        items = self._load()
        item = self._find(items, incident)
        was, item["status"] = item["status"], status
        self._save(items)
        return {"id": item["id"], "status": status, "was": was}

    def _load(self) -> list[dict[str, Any]]:
        try:
            items = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IncidentError(f"the tracker has no data file at {self.path}: start the playground "
                                "again to seed it") from None
        return list(items)

    def _save(self, items: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(items, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, self.path)

    @staticmethod
    def _find(items: list[dict[str, Any]], incident: str) -> dict[str, Any]:
        wanted = incident.strip().upper()
        for item in items:
            if item["id"] == wanted:
                return item
        known = ", ".join(i["id"] for i in items)
        raise IncidentError(f"no incident {incident!r} in the tracker; it has {known}")


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """An incident without its notes (one flat object), with how many it has."""
    return {**{k: v for k, v in item.items() if k != "notes"}, "notes": len(item["notes"])}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tracker_config(data: Path) -> dict[str, Any]:
    """The ``mcpServers`` entry that starts the tracker over stdio, its reads green."""
    return {"command": sys.executable, "args": ["-m", SERVER_MODULE, str(data)], "green": list(READS),
            "timeout_seconds": 20}


def connect_tracker(settings: Settings) -> Settings:
    """The settings with the tracker connected (its data seeded afresh), unless DAGBOT_MCP_CONFIG
    names a file already."""
    if settings.mcp_config is not None:
        return settings
    folder = settings.playground_dir
    data = IncidentFile(folder / "incidents.json").seed()
    config = folder / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {SERVER: tracker_config(data.resolve())}}, indent=1) + "\n",
                      encoding="utf-8")
    return settings.model_copy(update={"mcp_config": config})
