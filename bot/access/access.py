"""Applies the access policy in Slack: who may use, approve or cancel what, and where.

User groups are resolved with ``usergroups.users.list`` (cached for ``cache_seconds``; a
listing Slack refuses is not cached: the last list Slack gave stands in for it, and with none,
whether someone is a member is unknown, :class:`MembershipUnknown`). :class:`AccessDirectory`
is also the engine's :class:`agent.ports.stores.ToolAccess`: the planner of a run in a Slack thread
sees only the tools the person who asked may use in that channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access.approvers import deciders, describe, is_allowed, is_group, mention, named
from bot.access.policy import Policy
from bot.access.unattended import UnattendedTools, unattended_route
from bot.ground.threads import ThreadRef

log = structlog.get_logger(__name__)


def channel_list(channels: Sequence[str]) -> str:
    return ", ".join(f"<#{c}>" for c in channels)


NO_SUCH_GROUP = "no_such_subteam"
"""Slack's answer for a group id that does not exist: a group without members, not a failure."""


DIRECT_TYPES = frozenset({"im", "mpim"})
"""The ``channel_type`` of direct conversations in Slack's message events: a DM, a group DM."""


def is_direct(channel: str, *, channel_type: str | None = None,
              channel_name: str | None = None) -> bool | None:
    """Is the conversation a DM or a group DM (what ``direct_messages`` covers)? Told by a
    message event's ``channel_type`` (``im``, ``mpim``), else by a slash command's
    ``channel_name`` (``directmessage``, ``mpdm-…``), else by the id (``D…``: a DM). None when
    nothing tells: a ``C…``/``G…`` id may be a channel or a group DM (e.g. an app_mention, which
    carries no ``channel_type``)."""
    if channel_type:
        return channel_type in DIRECT_TYPES
    if channel_name:
        return channel_name == "directmessage" or channel_name.startswith("mpdm-")
    return True if channel.startswith("D") else None


class MembershipUnknown(Exception):
    """Slack would not list a user group that decides the question, and none is cached: the
    answer is unknown (not "no"), so the person is asked to try again."""

    def __init__(self, group: str) -> None:
        super().__init__(group)
        self.group = group


class AccessDirectory:
    def __init__(self, policy: Policy, client: AsyncWebClient, *, cache_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.client = client
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self.unattended = UnattendedTools()
        """The tools runs an alert route requested may use (green ones, unless the route allows red)."""

    async def members(self, group: str) -> frozenset[str]:
        """The group's members, as Slack last listed them (at most ``cache_seconds`` ago, unless
        Slack refuses to list them now). Raises :class:`MembershipUnknown` if it never did."""
        cached = self._members.get(group)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
            users = frozenset(response.get("users") or [])
        except SlackApiError as exc:
            if exc.response.get("error") != NO_SUCH_GROUP:
                return self._unlisted(group, cached, exc)
            log.warning("a user group of the access policy does not exist", usergroup=group)
            users = frozenset()  # an answer: nobody is in it
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return self._unlisted(group, cached, exc)
        self._members[group] = (self.clock(), users)
        return users

    @staticmethod
    def _unlisted(group: str, cached: tuple[float, frozenset[str]] | None, exc: Exception) -> frozenset[str]:
        """Slack did not list the group (rate limited, failing, unreachable): its last list, if
        any, not cached anew (the next question asks Slack again)."""
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("could not list a user group", usergroup=group, error=error,
                    using="the last list" if cached else "nothing")
        if cached is None:
            raise MembershipUnknown(group) from exc
        return cached[1]

    async def _allowed(self, principals: tuple[str, ...], requester: str | None, user: str) -> bool:
        """Raises :class:`MembershipUnknown` when the answer depends on a group Slack would not list."""
        if user in principals or (not principals and user == requester):
            return True
        groups: dict[str, frozenset[str]] = {}
        unknown: MembershipUnknown | None = None
        for principal in principals:
            if is_group(principal):
                try:
                    groups[principal] = await self.members(principal)
                except MembershipUnknown as exc:
                    unknown = exc
        if is_allowed(principals, requester, user, groups):
            return True
        if unknown is not None:
            raise unknown
        return False

    # ------------------------------------------------------------ approvals

    async def may_approve(self, tool: str, requester: str | None, user: str) -> bool:
        """May decide on (approve, reject or edit) an approval of this tool. Raises
        :class:`MembershipUnknown` when that depends on a group Slack would not list."""
        return await self._allowed(self.approvers_for(tool, requester), requester, user)

    async def lists_approval(self, tool: str, requester: str | None, user: str) -> bool:
        """Whether to list an approval of this tool among those ``user`` may decide (App Home,
        ``/agent status``): not while that is unknown (the list is made again later)."""
        try:
            return await self.may_approve(tool, requester, user)
        except MembershipUnknown:
            return False

    async def deciders(self, tool: str, requester: str | None) -> frozenset[str]:
        """Everyone who may decide on an approval of this tool, as user ids (groups resolved
        like :meth:`may_approve` resolves them). A group Slack would not list is left out
        (logged): its members cannot be told, though they may still decide."""
        principals = self.approvers_for(tool, requester)
        members: dict[str, frozenset[str]] = {}
        for group in filter(is_group, principals):
            try:
                members[group] = await self.members(group)
            except MembershipUnknown:
                log.warning("left out the members of a user group Slack would not list", usergroup=group)
        return deciders(principals, requester, members)

    async def may_cancel(self, requester: str | None, user: str) -> bool:
        """The requester, or a supervisor (the ``"*"`` approvers), may cancel a run. Raises
        :class:`MembershipUnknown` when that depends on a group Slack would not list."""
        if requester is None or user == requester:
            return True
        supervisors = self.policy.supervisors
        return bool(supervisors) and await self._allowed(supervisors, requester, user)

    def approvers_for(self, tool: str, requester: str | None) -> tuple[str, ...]:
        """Who may approve a call of ``tool`` in a run ``requester`` asked for: the policy's
        approvers of the tool, else (an alert route's run) the route's; empty: the requester."""
        return self.policy.approvers_for(tool) or self.unattended.approvers(requester)

    def who_may_approve(self, tool: str, requester: str | None) -> str:
        return describe(self.approvers_for(tool, requester), requester)

    def offers_standing(self, tool: str, requester: str | None) -> bool:
        """Whether an approval of this tool offers "Approve for this thread": the policy does
        not mark the tool never standing, and a person asked (a grant is theirs; an alert
        route's later runs in the thread are nobody's to have approved ahead)."""
        return (requester is not None and unattended_route(requester) is None
                and self.policy.offers_standing(tool))

    async def may_grant_standing(self, tool: str, requester: str | None, user: str) -> bool:
        """May give a standing approval of this tool's calls by ``requester``: it is offered, and
        ``user`` may approve them and is among the policy's ``standing_granters`` (if it names
        any). Raises :class:`MembershipUnknown` when that depends on a group Slack would not list."""
        if not self.offers_standing(tool, requester) or not await self.may_approve(tool, requester, user):
            return False
        granters = self.policy.standing_granters_for(tool)
        return granters is None or await self._allowed(granters, None, user)

    # ------------------------------------------------------------ requests

    def answers_in(self, channel: str, *, direct: bool | None) -> bool | None:
        """Does the bot answer in this conversation at all (channel allow list, DMs on/off)?
        ``direct``: a DM or group DM, None if not known (see :func:`is_direct`); then the answer
        is None if it depends on that."""
        if direct is None:
            if self.policy.answers_in(channel, direct=True) != self.policy.answers_in(channel, direct=False):
                return None
            direct = False
        return self.policy.answers_in(channel, direct=direct)

    async def tool_refusal(self, tool: str, user: str | None, channel: str) -> str | None:
        """Why ``user`` may not use ``tool`` in ``channel`` (None: they may)."""
        channels = self.policy.channels_for(tool)
        if channels is not None and channel not in channels:
            return (f"'{tool}' may only be used in {channel_list(channels)}" if channels
                    else f"'{tool}' is switched off by the access policy")
        requesters = self.policy.requesters_for(tool)
        if requesters is None:
            return None
        if user is not None and requesters:
            try:
                if await self._allowed(requesters, None, user):
                    return None
            except MembershipUnknown as exc:
                return (f"I could not check whether {mention(user)} may use '{tool}': Slack did not "
                        f"list the members of {named(exc.group)}; ask again in a moment")
        if not requesters:
            return f"'{tool}' is switched off by the access policy"
        who = ", ".join(named(p) for p in requesters)
        return f"only {who} may use '{tool}'" + (f", and {mention(user)} may not" if user else "")

    async def refused_tools(self, thread_id: str, requester: str | None,
                            tools: Sequence[str]) -> dict[str, str]:
        """:class:`agent.ports.stores.ToolAccess`: the tools a request in this thread may not use."""
        thread = ThreadRef.parse(thread_id)
        if thread is None:  # the terminal: whoever runs dagbot there has the machine anyway
            return {}
        refused = self.unattended.refusals(requester, tools)
        for tool in tools:
            reason = None if tool in refused else await self.tool_refusal(tool, requester, thread.channel)
            if reason is not None:
                refused[tool] = reason
        return refused
