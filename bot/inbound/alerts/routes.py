"""Where an alert group goes and what dagbot is asked about it: the routes (pure).

They are read once at start-up from the YAML (or JSON) file ``DAGBOT_ALERTS_FILE`` names::

    routes:
      - name: node-down                      # shown in Slack; the runs' requester is alerts:node-down
        match: {alertname: NodeDown}         # label = value, every one (omit: any labels)
        match_re: {severity: "critical|page"}    # label matches the whole regular expression
        channel: C0OPS                       # where the group's thread opens (the bot must be in it)
        request: "Investigate {alertname} on {instance}: {summary}"
        runbook: runbooks/node-down.md       # optional: a file in the workspace the run should follow
      - name: everything-else                # no match: the default route
        channel: C0ALERTS
        request: "Investigate the alert {alertname}: {summary}"
        read_only: true                      # green tools only (the default)
      - name: deploys
        match_re: {alertname: "Deploy.*"}
        channel: C0DEPLOY
        request: "Find out why {alertname} on {instance}"
        read_only: false                     # red tools too, each call waiting for an approval
        approvers: [S0ONCALL, U0ALICE]       # who approves them where the policy names nobody

The first route whose ``match`` and ``match_re`` all hold for the labels every alert of the
group shares (Alertmanager's ``commonLabels``) takes the group; a group no route takes is
left alone. A file that cannot be used is a :class:`AlertRoutesError`, one line per problem,
each naming the file, the line and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.access.approvers import principal_problem
from bot.access.unattended import ROUTE_NAME, route_requester
from bot.access.yaml_places import InvalidYaml, line_of, problem_at, read_yaml

_CHANNEL = re.compile(r"^[CG][A-Z0-9]+$")


def _route_name(value: str) -> str:
    if not ROUTE_NAME.match(value):
        raise ValueError(f"{value!r} is not a route name: lower-case letters, digits, '-' and '_', "
                         "at most 25, starting with a letter or digit")
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"{value!r} is not a Slack channel id (C…/G…); the channel's details in Slack "
                         "show it")
    return value


def _patterns(value: dict[str, str]) -> dict[str, str]:
    for label, pattern in value.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{label}: {pattern!r} is not a regular expression ({exc})") from None
    return value


def _principal(value: str) -> str:
    problem = principal_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _request(value: str) -> str:
    if not value.strip():
        raise ValueError("the request is empty: say what dagbot should do, e.g. "
                         "'Investigate {alertname} on {instance}: {summary}'")
    return value


class AlertRoute(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, AfterValidator(_route_name)]
    channel: Annotated[str, AfterValidator(_channel)]
    request: Annotated[str, AfterValidator(_request)] = Field(max_length=2000)
    """The request's template: ``{name}`` is the alerts' label or annotation of that name."""
    match: dict[str, str] = Field(default_factory=dict)
    match_re: Annotated[dict[str, str], AfterValidator(_patterns)] = Field(default_factory=dict)
    runbook: str | None = Field(default=None, min_length=1, max_length=500)
    read_only: bool = True
    """Its runs may use green tools only; false: red ones too, each call waiting for approval."""
    approvers: tuple[Annotated[str, AfterValidator(_principal)], ...] = ()
    """Who approves its runs' red calls where the access policy names no approvers for the tool
    (they stand in for the requester a person's run has); mentioned and DM'd. Empty: nobody."""

    @model_validator(mode="after")
    def _approvers_need_red(self) -> AlertRoute:
        if self.approvers and self.read_only:
            raise ValueError("approvers are given, but the route is read-only, so its runs ask for no "
                             "approval: add read_only: false, or leave approvers out")
        return self

    @property
    def requester(self) -> str:
        """Who its runs are requested by (no person: see :mod:`bot.access.unattended`)."""
        return route_requester(self.name)

    def takes(self, labels: Mapping[str, str]) -> bool:
        """Do the labels (the group's common ones) match this route?"""
        return (all(labels.get(label) == value for label, value in self.match.items())
                and all(re.fullmatch(pattern, labels.get(label, "")) is not None
                        for label, pattern in self.match_re.items()))


class AlertRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: tuple[AlertRoute, ...]

    def route_for(self, labels: Mapping[str, str]) -> AlertRoute | None:
        """The first route that takes these labels, if any."""
        return next((route for route in self.routes if route.takes(labels)), None)

    def named(self, name: str) -> AlertRoute | None:
        return next((route for route in self.routes if route.name == name), None)


class AlertRoutesError(ValueError):
    """The routes cannot be used; one sentence per problem, each naming where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_alert_routes(path: Path) -> AlertRoutes:
    """The routes in ``DAGBOT_ALERTS_FILE``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AlertRoutesError([f"DAGBOT_ALERTS_FILE: cannot read {path}: {exc.strerror or exc}"]) from None
    return parse_alert_routes(text, path.name)


def parse_alert_routes(text: str, name: str = "alerts.yml") -> AlertRoutes:
    """Parse the YAML (or JSON) text; every problem names the file, line and key, e.g.
    ``alerts.yml:4: routes[0].channel: 'ops' is not a Slack channel id (C…/G…); …``."""
    try:
        root, data = read_yaml(text, name)
    except InvalidYaml as exc:
        raise AlertRoutesError([str(exc)]) from None
    if not isinstance(data, dict):
        raise AlertRoutesError([f"{name}:1: the file must be a mapping with 'routes', a list of routes"])
    try:
        routes = AlertRoutes.model_validate(data)
    except ValidationError as exc:
        raise AlertRoutesError([_describe(name, root, error) for error in exc.errors()]) from None
    if not routes.routes:
        raise AlertRoutesError([f"{name}:{line_of(root, ('routes',))}: routes: the list is empty: name at "
                                "least one route (without any, leave DAGBOT_ALERTS_FILE unset)"])
    names = [route.name for route in routes.routes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise AlertRoutesError([f"{name}: routes: the name {n!r} is given to more than one route"
                                for n in twice])
    return routes


def _describe(name: str, root: Any, error: Any) -> str:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = (f"unknown key {loc[-1]!r} (a route has name, channel, request, match, match_re, "
                   "runbook, read_only and approvers)" if len(loc) > 1
                   else f"unknown key {loc[-1]!r} (expected routes)")
    elif error["type"] == "missing":
        message = "is missing"
    return problem_at(name, root, loc, message)
