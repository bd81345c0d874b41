"""``DAGBOT_APPROVERS``: who may approve a red node, per tool (pure). It folds into the access
policy (:mod:`bot.policy`); :mod:`bot.access` resolves user groups through Slack.

``DAGBOT_APPROVERS`` is JSON mapping a tool name, or ``"*"`` for every tool, to a list
of Slack user ids (``U…``/``W…``) and user group ids (``S…``). A tool without a rule
(and no ``"*"``) may be approved by the person who asked for the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

ANY_TOOL = "*"


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
        """Parse ``DAGBOT_APPROVERS``; an empty string means "the requester approves"."""
        if not text.strip():
            return cls()
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"DAGBOT_APPROVERS is not valid JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise ValueError('DAGBOT_APPROVERS must be a JSON object like {"deploy": ["U123", "S456"]}')
        rules: dict[str, tuple[str, ...]] = {}
        for tool, principals in raw.items():
            if isinstance(principals, str):
                principals = [principals]
            if not isinstance(principals, list) or not all(
                isinstance(p, str) and p[:1] in ("U", "W", "S") for p in principals
            ):
                raise ValueError(
                    f"DAGBOT_APPROVERS[{tool!r}] must list Slack user ids (U…/W…) or user group ids (S…)"
                )
            rules[str(tool)] = tuple(principals)
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


def describe(principals: tuple[str, ...], requester: str | None) -> str:
    if principals:
        return ", ".join(mention(p) for p in principals)
    return mention(requester) if requester else "anyone in this channel"
