"""Runs nobody asked for: an alert's run is requested by its route, not by a person (pure).

The requester of such a run is the route's name behind :data:`PREFIX` (``alerts:node-down``),
which is no Slack user: nobody can be it. Where a person's run falls back on its requester
to approve a red tool the policy names no approvers for, a route's run falls back on the
route's own ``approvers`` (:meth:`UnattendedTools.approvers`), and with none, nobody may
approve that tool's calls in the run (they wait, and expire).

A route is read-only unless it says otherwise: its runs may use green tools only
(:class:`UnattendedTools`, which :class:`bot.access.access.AccessDirectory` asks); a route that
allows red tools gets them like any request, each call waiting for the policy's approvers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from agent.errors import ToolNotAllowed
from agent.tools.registry import Risk

PREFIX = "alerts:"
ROUTE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,24}$")
"""What a route's name may be: it is shown as is, inside a code span, and its requester
(:func:`route_requester`) is at most 32 characters, as long as the Slack user ids it stands beside."""


def route_requester(route: str) -> str:
    """The requester of the runs a route starts."""
    return PREFIX + route


def unattended_route(requester: str | None) -> str | None:
    """The route that requested a run, or None when a person did (or nobody is known)."""
    if requester is None or not requester.startswith(PREFIX):
        return None
    route = requester.removeprefix(PREFIX)
    return route if ROUTE_NAME.match(route) else None


class UnattendedTools:
    """Which tools a run a route requested may use: green ones, unless the route allows red ones.

    Whether a tool is red comes from the tool registry (:meth:`know_risks`, given when the engine
    is built); until then, and for a tool it does not know, a route's run may use nothing."""

    def __init__(self) -> None:
        self._red_allowed: set[str] = set()
        self._approvers: dict[str, tuple[str, ...]] = {}
        self._risk_of: Callable[[str], Risk] | None = None

    def allow_red(self, route: str, approvers: tuple[str, ...] = ()) -> None:
        """The route's runs may use red tools (each call still waits for an approval); ``approvers``:
        who approves the calls of those the policy names no approvers for (user and group ids)."""
        self._red_allowed.add(route)
        if approvers:
            self._approvers[route] = approvers

    def approvers(self, requester: str | None) -> tuple[str, ...]:
        """Who stands in for the requester of a route's run when an approval falls back on it
        (empty: nobody; and for a person's run, who is there)."""
        route = unattended_route(requester)
        return self._approvers.get(route, ()) if route is not None else ()

    def know_risks(self, risk_of: Callable[[str], Risk]) -> None:
        self._risk_of = risk_of

    def refusals(self, requester: str | None, tools: Sequence[str]) -> dict[str, str]:
        """Of ``tools``, those a run ``requester`` asked for may not use, each with why."""
        route = unattended_route(requester)
        if route is None or route in self._red_allowed:
            return {}
        refused = {}
        for tool in tools:
            if self._risk(tool) is not Risk.GREEN:
                refused[tool] = (f"'{tool}' changes things, and the alert route `{route}` starts read-only "
                                 "runs (its read_only: false would allow it, each call waiting for approval)")
        return refused

    def _risk(self, tool: str) -> Risk | None:
        if self._risk_of is None:
            return None
        try:
            return self._risk_of(tool)
        except ToolNotAllowed:  # (not in the registry)
            return None
