"""dagbot's own reply, written from the run's facts when no answer it can vouch for comes.

Each step that ran says what it did (a read, its text; a value, the value), each that failed
says why, each that did not run says so, and the last line says what changed. Values are the
results' own, never raw JSON, and no step is named that did not run. A read that a package which
finished computed from is named, not shown: the value computed from it is the answer, and the
whole file beside it buried it (bench.quality data-manual-certs: the three certificates asked
for, under the JSON of all six). A package that found nothing hides no read.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from agent.plan.package_code import package_input_ids
from agent.plan.uncomputed import untabled_reads

INTRO = "Here is what the steps did (dagbot's own summary: no answer held to the results came):"
TEXT_KEYS = ("content", "text", "body")
"""Where a result keeps the text it read: shown as that text."""
_TEXT_CHARS = 600
_VALUE_CHARS = 200
_ITEMS = 5


def facts_reply(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]], red_tools: Collection[str],
                why: str | None = None) -> str:
    """The reply from ``results`` (by node id) of ``plan``'s nodes; ``why`` says why it is
    dagbot's own (what the model's answer stated that no result holds)."""
    nodes = {node.get("id"): node for node in plan.get("nodes") or []}
    lines = [INTRO if why is None else f"{INTRO[:-1]}, as the model's answer {why}:"]
    used = _went_on_from(nodes, results)
    for node_id, result in results.items():
        node = nodes.get(node_id.split(" (plan")[0]) or {}
        if node_id in used and result.get("status") == "done":
            readers = ", ".join(f"`{n}`" for n in used[node_id])
            lines.append(f"• `{node_id}` ({_what(node, result)}): done, read by {readers}")
            continue
        lines.append(_line(node_id, node, result))
    changed = [node_id for node_id, result in results.items()
               if (nodes.get(node_id) or {}).get("tool") in red_tools and result.get("status") == "done"]
    if not results:
        lines.append("• no step ran")
    lines.append(f"Changed: {', '.join(f'`{n}`' for n in changed)}." if changed else "Nothing was changed.")
    return "\n".join(lines)


def _went_on_from(nodes: Mapping[Any, Mapping[str, Any]], results: Mapping[str, Mapping[str, Any]]
                  ) -> dict[str, list[str]]:
    """Each node a package that finished with a value computed from (its input), with those
    packages. (A read a tool node went on from is shown: what it sent or wrote is that text; and
    so is one whose package found nothing: fresh rollout's ``None`` hid the file that held 25;
    and a read of a file holding no table beside data files, :func:`agent.plan.uncomputed.untabled_reads`.)"""
    used: dict[str, list[str]] = {}
    by_id = {str(key): value for key, value in nodes.items()}
    for node_id, node in nodes.items():
        result = results.get(str(node_id)) or {}
        found = result.get("output") not in (None, "", [], {})
        if not node.get("package") or result.get("status") != "done" or not found:
            continue
        code = str((node.get("package") or {}).get("code") or "")
        inputs = {*map(str, node.get("depends_on") or []), *package_input_ids(code)}
        for source in inputs - {str(node_id)} - untabled_reads(by_id, inputs):
            used.setdefault(source, []).append(str(node_id))
    return used


def failure_line(node_id: str, node: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """The line for a step that did not finish: what it was, and why (a reply's or a note's)."""
    return _line(node_id, node, result)


def _line(node_id: str, node: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    label = f"`{node_id}` ({_what(node, result)})" if node else f"`{node_id}`"
    status = result.get("status")
    if status == "done":
        shown = result["output"] if "output" in result else result.get("preview")
        return f"• {label}: done{_shown(shown)}"
    detail = str(result.get("error") or "").strip()
    said = {"failed": "failed", "rejected": "did not run: not approved", "skipped": "did not run"}.get(
        str(status), str(status))
    return f"• {label}: {said}" + (f" ({_clip(detail, _VALUE_CHARS)})" if detail else "")


def _what(node: Mapping[str, Any], result: Mapping[str, Any] | None = None) -> str:
    """What a step was: its tool and target, or its package's goal. A target written as a
    reference (``${search.matches[0].path}``) is the one its result names, or none: a person
    reads no template (wide find-wal)."""
    if node.get("tool"):
        key, target = next(((key, value) for key, value in (node.get("args") or {}).items()
                            if key in ("path", "url", "to", "table") and isinstance(value, str)), ("", ""))
        if "${" in target:
            output = (result or {}).get("output")
            named = output.get(key) if isinstance(output, Mapping) else None
            target = named if isinstance(named, str) and "${" not in named else ""
        return f"{node['tool']} {target}".strip()
    goal = str((node.get("package") or {}).get("goal") or "")
    return f"package: {_clip(goal, 80)}" if goal else "package"


def _shown(value: Any) -> str:
    """A result as a person reads it: its text, its value, its fields; never JSON."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        text = next((value[key] for key in TEXT_KEYS if isinstance(value.get(key), str)), None)
        if text is not None:
            return _block(text)
        if isinstance(value.get("columns"), list) and isinstance(value.get("rows"), list):
            return _table(value["columns"], value["rows"], bool(value.get("truncated")))
        fields = [f"{key}: {_plain(item)}" for key, item in value.items()
                  if not isinstance(item, Mapping | list)]
        lists = [f"{key}: {_items(item)}" for key, item in value.items() if isinstance(item, list)]
        return " — " + _clip("; ".join(fields + lists), _TEXT_CHARS) if fields or lists else ""
    if isinstance(value, list):
        return " — " + _items(value)
    if isinstance(value, str) and "\n" in value.strip():
        return _block(value)
    return " — " + _plain(value)


def _table(columns: list[Any], rows: list[Any], truncated: bool) -> str:
    """A query's rows (sql_query, query_file), each as its columns' values: ``total: 60425``."""
    if not rows:
        return " — no rows"
    shown = ["; ".join(f"{_plain(name)}: {_plain(cell)}" for name, cell in zip(columns, row, strict=False))
             if isinstance(row, list) else _plain(row) for row in rows[:_ITEMS]]
    more = max(len(rows) - _ITEMS, 0)
    tail = f" (and {more} more)" if more else ""
    tail += " (more matched than were returned)" if truncated else ""
    return " — " + _clip(" | ".join(shown), _TEXT_CHARS) + tail


def _block(text: str) -> str:
    text = text.strip()
    if not text:
        return " — (empty)"
    if "\n" not in text:
        return " — " + _clip(text, _VALUE_CHARS)
    return "\n```\n" + _clip(text, _TEXT_CHARS).replace("```", "'''") + "\n```"


def _items(items: list[Any]) -> str:
    shown = ", ".join(_plain(item) for item in items[:_ITEMS])
    more = f" and {len(items) - _ITEMS} more" if len(items) > _ITEMS else ""
    return f"{len(items)} item(s): {shown}{more}" if items else "none"


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return _clip(value, _VALUE_CHARS)
    if isinstance(value, Mapping):
        return "(" + ", ".join(f"{key}: {_plain(item)}" for key, item in list(value.items())[:6]) + ")"
    if isinstance(value, list):
        return _items(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut between words where one ends in its last third:
    a word cut short is a value no result holds ("notes/standup-20 …" of a goal naming
    notes/standup-2026-11-19.md read as the number 20; aimed missing-then-mail)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return (head[:space] if space >= limit * 2 // 3 else head).rstrip() + " …"
