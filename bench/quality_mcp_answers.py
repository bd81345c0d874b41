"""What bench.quality's MCP servers (bench/quality_mcp_server.py) answer: a small, fixed world
of one team's Git repository, Grafana (Prometheus, Loki, alert rules) and PagerDuty incidents.

Every tool of the catalogue (bench/tool_selection_catalogue.py) answers with a plausible small
result; the MCP cases (bench/quality_mcp.py) ask for facts only these results hold (incident
ids, the last commit's message, an error rate, who is on call), so an answer stating them was
written from a call, not guessed. A red tool's answer says what it did (its call is recorded by
the server: the cases' checks read that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Answer = Callable[[dict[str, Any]], dict[str, Any]]

INCIDENTS = [
    {"id": "PD-4821", "title": "Checkout p99 latency above 2s", "status": "triggered", "urgency": "high",
     "service": "checkout-api", "created_at": "2026-11-18T09:42:00Z"},
    {"id": "PD-4825", "title": "Ledger replica lag over 90s", "status": "acknowledged", "urgency": "low",
     "service": "ledger-db", "created_at": "2026-11-18T10:05:00Z"},
    {"id": "PD-4790", "title": "Search index rebuild stalled", "status": "resolved", "urgency": "low",
     "service": "search", "created_at": "2026-11-16T22:10:00Z"},
]
COMMITS = [
    {"hash": "9f3c2e1", "author": "Priya Raman", "date": "2026-11-18T08:15:00Z",
     "message": "Raise checkout DB pool size from 20 to 40"},
    {"hash": "41ab7d0", "author": "Tom Okafor", "date": "2026-11-17T16:02:00Z",
     "message": "Add retry with jitter to the payment client"},
    {"hash": "c07e9b3", "author": "Priya Raman", "date": "2026-11-17T11:40:00Z",
     "message": "Log the order id on checkout errors"},
]
LAST_DIFF = ("--- a/config/checkout.yaml\n+++ b/config/checkout.yaml\n@@ -12 +12 @@\n"
             "-  pool_size: 20\n+  pool_size: 40\n")
ALERT_RULES = [
    {"uid": "al-7f2", "title": "CheckoutHighLatency", "state": "firing", "labels": {"team": "payments"}},
    {"uid": "al-3c9", "title": "LedgerReplicaLag", "state": "pending", "labels": {"team": "data"}},
    {"uid": "al-1d4", "title": "DiskAlmostFull", "state": "normal", "labels": {"team": "platform"}},
]
ONCALLS = [
    {"schedule": "Platform primary", "user": "Dmitri Volkov", "start": "2026-11-17T09:00:00Z",
     "end": "2026-11-24T09:00:00Z"},
    {"schedule": "Platform secondary", "user": "Aiko Tanaka", "start": "2026-11-17T09:00:00Z",
     "end": "2026-11-24T09:00:00Z"},
]
ERROR_RATE = "0.027"
"""checkout's share of 5xx responses over the last 5 minutes, as Prometheus answers it."""


def _incidents(args: dict[str, Any]) -> dict[str, Any]:
    statuses = set(args.get("statuses") or ())
    return {"incidents": [i for i in INCIDENTS if not statuses or i["status"] in statuses]}


def _incident(args: dict[str, Any]) -> dict[str, Any]:
    wanted = str(args.get("incident_id", ""))
    found = next((i for i in INCIDENTS if i["id"] == wanted or i["id"].endswith(wanted)), None)
    if found is None:
        return {"error": f"no incident {wanted}"}
    return {**found, "assignees": ["Dmitri Volkov"],
            "timeline": [{"at": found["created_at"], "event": "triggered"}]}


def _commits(args: dict[str, Any]) -> dict[str, Any]:
    return {"commits": COMMITS[: int(args.get("max_count") or 10)]}


def _show(args: dict[str, Any]) -> dict[str, Any]:
    return {**COMMITS[0], "diff": LAST_DIFF, "revision": args.get("revision", "HEAD")}


def _prometheus(args: dict[str, Any]) -> dict[str, Any]:
    expr = str(args.get("expr", ""))
    value = ERROR_RATE if any(w in expr for w in ("5..", "5xx", "error", "status=~")) else "0.42"
    return {"resultType": "vector",
            "result": [{"metric": {"service": "checkout"}, "value": [1763459000, value]}]}


def _done(what: str) -> Answer:
    def answer(args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "done": what, **{k: v for k, v in args.items() if k.endswith("_id")}}
    return answer


ANSWERS: dict[str, Answer] = {
    # git
    "git__git_status": lambda a: {"branch": "main", "clean": True, "changes": []},
    "git__git_diff_unstaged": lambda a: {"diff": ""},
    "git__git_diff_staged": lambda a: {"diff": ""},
    "git__git_diff": lambda a: {"diff": LAST_DIFF},
    "git__git_log": _commits,
    "git__git_show": _show,
    "git__git_branch": lambda a: {"branches": ["main", "release/2.4", "feature/pool-size"]},
    "git__git_commit": _done("committed"),
    "git__git_add": _done("staged"),
    "git__git_reset": _done("unstaged"),
    "git__git_create_branch": _done("branch created"),
    "git__git_checkout": _done("switched"),
    # grafana
    "grafana__search_dashboards": lambda a: {"dashboards": [
        {"uid": "db-checkout", "title": "Checkout overview", "folder": "Payments"},
        {"uid": "db-ledger", "title": "Ledger database", "folder": "Data"}]},
    "grafana__get_dashboard_by_uid": lambda a: {"uid": a.get("uid"), "title": "Checkout overview",
                                                "panels": ["Requests", "Latency p99", "5xx rate"]},
    "grafana__list_datasources": lambda a: {"datasources": [
        {"uid": "prom-main", "type": "prometheus", "name": "Prometheus"},
        {"uid": "loki-main", "type": "loki", "name": "Loki"}]},
    "grafana__query_prometheus": _prometheus,
    "grafana__list_prometheus_metric_names": lambda a: {"metrics": [
        "http_requests_total", "http_request_duration_seconds_bucket", "db_pool_connections"]},
    "grafana__list_prometheus_label_values": lambda a: {"values": ["checkout", "ledger", "search"]},
    "grafana__query_loki_logs": lambda a: {"entries": [
        {"ts": "2026-11-18T09:41:58Z", "line": "level=error msg=\"pool exhausted\" service=checkout"}]},
    "grafana__list_alert_rules": lambda a: {"rules": ALERT_RULES},
    "grafana__get_alert_rule_by_uid": lambda a: next(
        (r for r in ALERT_RULES if r["uid"] == a.get("uid")), {"error": "no such rule"}),
    "grafana__list_oncall_schedules": lambda a: {"schedules": [
        {"id": "sch-1", "name": "Platform primary"}, {"id": "sch-2", "name": "Platform secondary"}]},
    "grafana__update_dashboard": _done("dashboard saved"),
    "grafana__create_annotation": _done("annotation created"),
    # pagerduty
    "pagerduty__list_incidents": _incidents,
    "pagerduty__get_incident": _incident,
    "pagerduty__list_oncalls": lambda a: {"oncalls": ONCALLS},
    "pagerduty__list_services": lambda a: {"services": [
        {"id": "checkout-api", "status": "critical"}, {"id": "ledger-db", "status": "warning"},
        {"id": "search", "status": "active"}]},
    "pagerduty__create_incident": lambda a: {"id": "PD-4830", "status": "triggered", "title": a.get("title")},
    "pagerduty__acknowledge_incident": lambda a: {"id": a.get("incident_id"), "status": "acknowledged"},
    "pagerduty__resolve_incident": lambda a: {"id": a.get("incident_id"), "status": "resolved"},
    "pagerduty__add_incident_note": lambda a: {"incident_id": a.get("incident_id"), "note_id": "N-311"},
    "pagerduty__reassign_incident": _done("reassigned"),
}
"""Registry name (``<server>__<tool>``) → its answer to the call's arguments."""


def answer(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``name``'s answer (a tool without one of its own says it found nothing)."""
    return ANSWERS.get(name, lambda a: {"items": []})(arguments)
