"""``DAGBOT_APPROVERS``: who may approve a red node, per tool (pure). It folds into the access
policy (:mod:`bot.access.policy`); :mod:`bot.access.access` resolves user groups through Slack.

``DAGBOT_APPROVERS`` is JSON mapping a tool name, or ``"*"`` for every tool, to a list
of Slack user ids (``U…``/``W…``) and user group ids (``S…``). A tool without a rule
(and no ``"*"``) may be approved by the person who asked for the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.access.unattended import unattended_route

ANY_TOOL = "*"
PRINCIPAL = re.compile(r"^[UWS][A-Z0-9]+$")
"""A Slack user id (``U…``/``W…``) or user group id (``S…``)."""
EXAMPLE = '{"deploy": ["U0123ABCD", "S0456EFGH"]}'


def principal_problem(value: Any) -> str | None:
    """Why ``value`` is not a user id or user group id (None: it is one)."""
    if not isinstance(value, str) or not PRINCIPAL.match(value):
        return f"{value!r} is not a Slack user id (U…/W…) or user group id (S…)"
    return None


def _which(tool: str) -> str:
    return "any tool" if tool == ANY_TOOL else repr(tool)


class ApproversError(ValueError):
    """``DAGBOT_APPROVERS`` cannot be used; one sentence per problem, each naming the setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def is_group(principal: str) -> bool:
    return principal.startswith("S")


def mention(principal: str) -> str:
    return f"<!subteam^{principal}>" if is_group(principal) else f"<@{principal}>"


def named(principal: str) -> str:
    """A principal in text that is no call to act (a refusal): a user is mentioned, a user group
    only named, so that nobody's refusal pings a whole group."""
    return f"user group {principal}" if is_group(principal) else mention(principal)


@dataclass(frozen=True)
class ApproverPolicy:
    rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Tool name (or ``"*"``) → user ids and user group ids."""

    @classmethod
    def from_json(cls, text: str) -> ApproverPolicy:
        """Parse ``DAGBOT_APPROVERS``; an empty string means "the requester approves". Raises
        :class:`ApproversError` naming every problem."""
        if not text.strip():
            return cls()
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApproversError([f"DAGBOT_APPROVERS is not valid JSON: {exc.msg}"]) from None
        if not isinstance(raw, dict):
            raise ApproversError([f"DAGBOT_APPROVERS must be a JSON object like {EXAMPLE}"])
        rules: dict[str, tuple[str, ...]] = {}
        problems: list[str] = []
        for tool, principals in raw.items():
            if isinstance(principals, str):
                principals = [principals]
            where = f"DAGBOT_APPROVERS[{json.dumps(tool)}]"
            if not isinstance(principals, list):
                problems.append(f"{where} should be a list of Slack user ids (U…/W…) and user group ids "
                                f"(S…), e.g. {EXAMPLE}")
            elif not principals:
                problems.append(f"{where} is an empty list, which would mean nobody may approve "
                                f"{_which(tool)}; leave {json.dumps(tool)} out for the default "
                                "(the requester approves)")
            else:
                found = [(index, principal_problem(p)) for index, p in enumerate(principals)]
                problems.extend(f"{where}[{index}]: {problem}" for index, problem in found if problem)
                rules[str(tool)] = tuple(principals)
        if problems:
            raise ApproversError(problems)
        return cls(rules)

    def approvers_for(self, tool: str) -> tuple[str, ...]:
        """The configured principals for a tool; empty means "the requester"."""
        return self.rules.get(tool) or self.rules.get(ANY_TOOL) or ()

    @property
    def supervisors(self) -> tuple[str, ...]:
        """Who may act on any run (the ``"*"`` rule), e.g. cancel someone else's run."""
        return self.rules.get(ANY_TOOL, ())

    def groups(self) -> set[str]:
        return {p for principals in self.rules.values() for p in principals if is_group(p)}


def is_allowed(
    principals: tuple[str, ...], requester: str | None, user: str,
    members: Mapping[str, frozenset[str]],
) -> bool:
    """Pure: is ``user`` among the principals (directly or via a group), or the requester?"""
    if not principals:
        return requester is None or user == requester
    for principal in principals:
        if principal == user or (is_group(principal) and user in members.get(principal, frozenset())):
            return True
    return False


def deciders(principals: tuple[str, ...], requester: str | None,
             members: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Pure: everyone :func:`is_allowed` lets decide, as user ids: the users named, the members
    of the groups named (those in ``members``), or the requester when nobody is named."""
    if not principals:
        return frozenset({requester}) if requester and not unattended_route(requester) else frozenset()
    users = {p for p in principals if not is_group(p)}
    for group in filter(is_group, principals):
        users |= members.get(group, frozenset())
    return frozenset(users)


def describe(principals: tuple[str, ...], requester: str | None) -> str:
    if principals:
        return ", ".join(mention(p) for p in principals)
    if unattended_route(requester):  # (no person asked: nobody may approve)
        return "nobody (name approvers in the alert route, DAGBOT_APPROVERS or the policy file)"
    return mention(requester) if requester else "anyone in this channel"
