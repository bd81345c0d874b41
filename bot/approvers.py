"""Who may approve a red node: a per-tool policy (pure) and user-group resolution (Slack).

``DAGBOT_APPROVERS`` is JSON mapping a tool name, or ``"*"`` for every tool, to a list
of Slack user ids (``U…``/``W…``) and user group ids (``S…``). A tool without a rule
(and no ``"*"``) may be approved by the person who asked for the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger(__name__)

ANY_TOOL = "*"


def is_group(principal: str) -> bool:
    return principal.startswith("S")


def mention(principal: str) -> str:
    return f"<!subteam^{principal}>" if is_group(principal) else f"<@{principal}>"


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


class ApproverDirectory:
    """Applies the policy, resolving user groups with ``usergroups.users.list`` (cached)."""

    def __init__(self, policy: ApproverPolicy, client: AsyncWebClient, *, cache_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.client = client
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
            users = frozenset(response.get("users") or [])
        except SlackApiError as exc:
            log.warning("could not list a user group", usergroup=group, error=exc.response.get("error"))
            users = cached[1] if cached else frozenset()
        self._members[group] = (self.clock(), users)
        return users

    async def _allowed(self, principals: tuple[str, ...], requester: str | None, user: str) -> bool:
        if user in principals or (not principals and user == requester):
            return True
        groups = {p: await self.members(p) for p in principals if is_group(p)}
        return is_allowed(principals, requester, user, groups)

    async def may_approve(self, tool: str, requester: str | None, user: str) -> bool:
        return await self._allowed(self.policy.approvers_for(tool), requester, user)

    async def may_cancel(self, requester: str | None, user: str) -> bool:
        """The requester, or a supervisor (the ``"*"`` rule), may cancel a run."""
        if requester is None or user == requester:
            return True
        supervisors = self.policy.supervisors
        return bool(supervisors) and await self._allowed(supervisors, requester, user)

    def who_may_approve(self, tool: str, requester: str | None) -> str:
        return describe(self.policy.approvers_for(tool), requester)
