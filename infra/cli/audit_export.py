"""``dagbot audit``: the audit trail as JSON lines or CSV (pure formatting, plus date parsing)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from agent.ports.audit import AuditEntry

COLUMNS = ("at", "thread", "run", "actor", "kind", "detail")


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def parse_when(text: str, option: str) -> float:
    """An ISO 8601 date or date-time (UTC unless it names a zone) as a timestamp."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date: use ISO 8601, e.g. 2026-11-01 or "
                         "2026-11-01T09:30Z (UTC unless a zone is given)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def as_record(entry: AuditEntry) -> dict[str, Any]:
    at = datetime.fromtimestamp(entry.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"at": at, "thread": entry.thread_id, "run": entry.run_id or None, "actor": entry.actor,
            "kind": entry.kind.value, "detail": entry.detail}


def export(entries: Iterable[AuditEntry], fmt: ExportFormat) -> Iterator[str]:
    """The entries as text chunks: one JSON object per line, or CSV with a header row
    (``detail`` as JSON text)."""
    if fmt is ExportFormat.JSONL:
        for entry in entries:
            yield json.dumps(as_record(entry), ensure_ascii=False, sort_keys=True) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        record = as_record(entry)
        record["detail"] = json.dumps(record["detail"], ensure_ascii=False, sort_keys=True)
        writer.writerow([record[c] if record[c] is not None else "" for c in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
