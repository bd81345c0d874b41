"""How big a plan may be: the checks refuse a plan past these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanLimits:
    max_nodes: int = 40
    """Larger requests are better split into follow-ups in the thread."""
    max_args_bytes: int = 16_000
    """JSON size of one node's arguments; big data flows through references instead."""
    max_code_bytes: int = 20_000
    max_each: int = 40
    """Calls of one fan-out node (``each``), as many as separate nodes would be allowed."""
