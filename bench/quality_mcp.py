"""bench.quality's MCP cases (``--mcp``, tuning set only): requests only an MCP server's tool
can answer or do, over the servers bench/quality_mcp_server.py serves (bench/quality_mcp_answers.py
holds what they answer).

Each is a :class:`McpCase`: a bench.quality case (its facts: what only the server's result
holds; ``red_tools``: MCP tools by their registry name ``<server>__<tool>``, approved when
asked) with the tools it needs (for ``needed_tool_shown_rate``) and the red calls the server
must have recorded (:class:`EffectCheck`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.quality_cases import Case, Kind


@dataclass(frozen=True)
class EffectCheck:
    tool: str
    """The red MCP tool, by its registry name."""
    arguments: tuple[tuple[str, str], ...]
    """(argument, regular expression its value, as JSON text, must match), for one recorded call."""
    claim: str
    """What an answer says to claim the effect: a false claim when no call of ``tool`` happened."""


@dataclass(frozen=True)
class McpCase(Case):
    needs: tuple[str, ...] = ()
    """The tools the request needs shown to the planner; ``a|b``: either will do."""
    effects: tuple[EffectCheck, ...] = ()


def mcp_case(name: str, kind: Kind, turn: str, **checks: object) -> McpCase:
    return McpCase(name, kind, (turn,), **checks)  # type: ignore[arg-type]


LAST_COMMIT = "git__git_log|git__git_show"

CASES: tuple[McpCase, ...] = (
    mcp_case("mcp-open-incidents", Kind.READ, "Which PagerDuty incidents are open right now?",
             facts=(r"4821|checkout p99", r"4825|ledger replica"), needs=("pagerduty__list_incidents",),
             quick=True),
    mcp_case("mcp-last-commit", Kind.READ,
             "What changed in the last commit of the repository at /srv/checkout?",
             facts=(r"pool", r"\b40\b"), needs=(LAST_COMMIT,), quick=True),
    mcp_case("mcp-error-rate", Kind.READ,
             "What is the checkout service's 5xx error rate right now? Ask Prometheus (datasource uid "
             "prom-main).", facts=(r"2\.7\s*%|0\.027",), needs=("grafana__query_prometheus",)),
    mcp_case("mcp-alerts-and-oncall", Kind.PARALLEL,
             "Which Grafana alert rules are firing, and who is on call in PagerDuty now?",
             facts=(r"CheckoutHighLatency|checkout high latency", r"Dmitri"),
             needs=("grafana__list_alert_rules", "pagerduty__list_oncalls")),
    mcp_case("mcp-ack-incident", Kind.RED, "Acknowledge PagerDuty incident PD-4821, I'm on it.",
             facts=(r"acknowledg",), red_tools=("pagerduty__acknowledge_incident",),
             needs=("pagerduty__acknowledge_incident",),
             effects=(EffectCheck("pagerduty__acknowledge_incident", (("incident_id", r"4821"),),
                                  r"\backnowledged\b"),), quick=True),
    mcp_case("mcp-note-last-commit", Kind.RED,
             "Add a note to PagerDuty incident PD-4821 quoting the message of the last commit in "
             "/srv/checkout.",
             red_tools=("pagerduty__add_incident_note",), needs=(LAST_COMMIT, "pagerduty__add_incident_note"),
             effects=(EffectCheck("pagerduty__add_incident_note",
                                  (("incident_id", r"4821"), ("note", r"pool size")),
                                  r"\b(?:added|noted|posted)\b"),)),
)
"""The MCP cases: run after the tuning set's own with ``--mcp`` (interleaved by kind)."""
