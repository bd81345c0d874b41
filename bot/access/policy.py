"""Who may ask for what, where, and who may approve it: the access policy (pure).

It is read once at start-up from the YAML file named by ``DAGBOT_POLICY_FILE``, with
``DAGBOT_APPROVERS`` folded in. Without either, everyone may use every tool everywhere the
bot is invited, and the requester approves their own red nodes (dagbot's defaults)::

    channels: [C0OPS, C0DEPLOY]     # where the bot answers at all (omit: everywhere)
    direct_messages: false          # requests by DM or group DM (default: true)
    tools:
      "*":                          # every tool, unless its own entry says otherwise
        approvers: [S0SRE]
      deploy:
        requesters: [S0SRE, U0ALICE]    # who may use it in a request (omit: anyone)
        channels: [C0DEPLOY]            # where it may be used (omit: anywhere the bot answers)
        approvers: [S0SRE]              # who may approve it (omit: the requester)
        standing: false                 # never offer "Approve for this thread" (default: offered)
      send_email:
        standing_granters: [U0BOB]      # who may give a standing approval (omit: its approvers)

A tool's entry overrides the ``"*"`` entry field by field. Ids are Slack's: users ``U…``/``W…``,
user groups ``S…``, channels ``C…``/``G…``. Nothing here talks to Slack: group membership is
resolved by :mod:`bot.access.access`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from bot.access.approvers import ANY_TOOL, ApproverPolicy, ApproversError, is_group, principal_problem
from bot.access.yaml_places import InvalidYaml, key_path, problem_at, read_yaml

_CHANNEL = re.compile(r"^[CG][A-Z0-9]+$")


def _principal(value: str) -> str:
    problem = principal_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"{value!r} is not a Slack channel id (C…/G…); the channel's details in Slack "
                         "show it")
    return value


def _some(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    if not values:
        raise ValueError(f"an empty list would mean {what}; leave the key out for the default")
    return values


Principal = Annotated[str, AfterValidator(_principal)]
ChannelId = Annotated[str, AfterValidator(_channel)]


class ToolRule(BaseModel):
    """What the policy says about one tool (or ``"*"``); a field left out falls back to the
    ``"*"`` entry, then to dagbot's default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requesters: tuple[Principal, ...] | None = None
    """Users and user groups who may use the tool in a request. Default: anyone. ``[]``: nobody."""
    channels: tuple[ChannelId, ...] | None = None
    """Channels where it may be used (not in DMs). Default: wherever the bot answers."""
    approvers: Annotated[tuple[Principal, ...], AfterValidator(
        lambda v: _some(v, "nobody may approve"))] | None = None
    """Who may approve it (red tools). Default: the person who asked."""
    standing: bool | None = None
    """Whether its approvals offer "Approve for this thread" (a standing approval of its later
    calls in the thread by the same requester). Default: yes. ``false``: never standing."""
    standing_granters: Annotated[tuple[Principal, ...], AfterValidator(
        lambda v: _some(v, "nobody may give a standing approval (say standing: false)"))] | None = None
    """Who may give a standing approval of it (and may approve it). Default: whoever may approve it."""


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: Annotated[tuple[ChannelId, ...], AfterValidator(
        lambda v: _some(v, "the bot answers nowhere"))] | None = None
    """Channels where the bot answers at all. Default: every channel it is invited to."""
    direct_messages: bool = True
    """Whether the bot takes requests in direct messages and group DMs."""
    tools: dict[str, ToolRule] = Field(default_factory=dict)
    """Tool name (or ``"*"``) → its rule."""

    # ---------------------------------------------------------------- queries

    def _field(self, tool: str, name: str) -> tuple[str, ...] | None:
        for key in (tool, ANY_TOOL):
            rule = self.tools.get(key)
            value = getattr(rule, name) if rule is not None else None
            if value is not None:
                return tuple(value)
        return None

    def requesters_for(self, tool: str) -> tuple[str, ...] | None:
        """Who may use the tool in a request; None: anyone."""
        return self._field(tool, "requesters")

    def channels_for(self, tool: str) -> tuple[str, ...] | None:
        """Where the tool may be used; None: wherever the bot answers."""
        return self._field(tool, "channels")

    def approvers_for(self, tool: str) -> tuple[str, ...]:
        """Who may approve the tool; empty: the requester."""
        return self._field(tool, "approvers") or ()

    def offers_standing(self, tool: str) -> bool:
        """Whether the tool's approvals offer "Approve for this thread" (default: yes)."""
        for key in (tool, ANY_TOOL):
            rule = self.tools.get(key)
            if rule is not None and rule.standing is not None:
                return rule.standing
        return True

    def standing_granters_for(self, tool: str) -> tuple[str, ...] | None:
        """Who may give a standing approval of the tool, besides being allowed to approve it;
        None: whoever may approve it."""
        return self._field(tool, "standing_granters")

    @property
    def supervisors(self) -> tuple[str, ...]:
        """Who may act on any run (the ``"*"`` approvers), e.g. cancel someone else's run."""
        rule = self.tools.get(ANY_TOOL)
        return tuple(rule.approvers or ()) if rule is not None else ()

    def answers_in(self, channel: str, *, direct: bool) -> bool:
        """Does the bot answer in this conversation at all?"""
        if direct:
            return self.direct_messages
        return self.channels is None or channel in self.channels

    def groups(self) -> set[str]:
        return {p for rule in self.tools.values() for field in _principals(rule) for p in field or ()
                if is_group(p)}

    def users(self) -> set[str]:
        """The users (not groups) it names."""
        return {p for rule in self.tools.values() for field in _principals(rule) for p in field or ()
                if not is_group(p)}

    def unknown_tools(self, known: Collection[str]) -> list[str]:
        return sorted(t for t in self.tools if t != ANY_TOOL and t not in known)

    # ------------------------------------------------------------ building

    @classmethod
    def from_approvers(cls, approvers: Mapping[str, Iterable[str]]) -> Policy:
        return cls().with_approvers(ApproverPolicy({tool: tuple(p) for tool, p in approvers.items()}))

    def with_approvers(self, approvers: ApproverPolicy, source: str = "the policy file") -> Policy:
        """Fold ``DAGBOT_APPROVERS`` in: each of its tools gets those approvers, unless the
        policy names approvers for that tool too (then it is an error: one place per tool). The
        rules are validated as the file's are: a :class:`PolicyError` names what is wrong."""
        tools = dict(self.tools)
        clashes: list[str] = []
        problems: list[str] = []
        for tool, principals in approvers.rules.items():
            rule = tools.get(tool, ToolRule())
            if rule.approvers is not None:
                clashes.append(tool)
                continue
            try:
                tools[tool] = ToolRule.model_validate({**rule.model_dump(exclude_none=True),
                                                       "approvers": principals})
            except ValidationError as exc:
                problems.extend(_approvers_problem(tool, err) for err in exc.errors())
        if clashes:
            problems.append(f"DAGBOT_APPROVERS and {source} both name approvers for "
                            f"{', '.join(repr(t) for t in sorted(clashes))}: keep them in one place")
        if problems:
            raise PolicyError(problems)
        return self.model_copy(update={"tools": tools})


def _principals(rule: ToolRule) -> tuple[tuple[str, ...] | None, ...]:
    """The lists of people and groups a rule names."""
    return rule.requesters, rule.approvers, rule.standing_granters


def _approvers_problem(tool: str, err: Any) -> str:
    """A problem of ``DAGBOT_APPROVERS``'s entry for ``tool``, named as in the setting."""
    index = "".join(f"[{part}]" for part in tuple(err["loc"])[1:])
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "tuple_type":
        message = "should be a list of Slack user ids (U…/W…) and user group ids (S…)"
    elif err["type"] == "string_type":
        message = "should be a Slack user id (U…/W…) or user group id (S…)"
    return f'DAGBOT_APPROVERS["{tool}"]{index}: {message}'


def check_policy_tools(policy: Policy, tools: Collection[str], source: str,
                       awaited: Callable[[str], bool] = lambda name: False) -> None:
    """A tool the policy names must exist: a misspelt one would leave the real one unrestricted.
    ``awaited``: names that may exist once a tool server that is down comes up (an MCP server
    that did not start must not stop dagbot; the rules for its tools apply once it is back)."""
    unknown = [name for name in policy.unknown_tools(tools) if not awaited(name)]
    if unknown:
        raise PolicyError([f"{source}: tools.{name}: dagbot has no tool of that name (its tools: "
                           f"{', '.join(sorted(tools))}); fix the name, or add the tool with DAGBOT_TOOLS"
                           for name in unknown])


class PolicyError(ValueError):
    """The policy cannot be used; one sentence per problem, each naming where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_policy(path: Path | None, approvers_json: str = "") -> Policy:
    """The policy from ``DAGBOT_POLICY_FILE`` (None: no file) and ``DAGBOT_APPROVERS``."""
    try:
        approvers = ApproverPolicy.from_json(approvers_json)
    except ApproversError as exc:
        raise PolicyError(exc.problems) from None
    if path is None:
        return Policy().with_approvers(approvers, "DAGBOT_APPROVERS")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([f"DAGBOT_POLICY_FILE: cannot read {path}: {exc.strerror or exc}"]) from None
    return parse_policy(text, path.name).with_approvers(approvers, path.name)


def parse_policy(text: str, name: str = "policy.yml") -> Policy:
    """Parse the YAML text; every problem names the file, line and place, e.g.
    ``policy.yml:7: tools.deploy.approvers[1]: 'bob' is not a Slack user id (U…/W…) or user
    group id (S…)``."""
    try:
        root, data = read_yaml(text, name)
    except InvalidYaml as exc:
        raise PolicyError([str(exc)]) from None
    if root is not None:
        duplicates = list(_duplicate_keys(root, ()))
        if duplicates:
            raise PolicyError([f"{name}:{line}: {key_path(loc)}: {key!r} is given twice"
                               for loc, key, line in duplicates])
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError([f"{name}:1: the policy must be a mapping with 'channels', "
                           "'direct_messages' and/or 'tools'"])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_describe(name, root, err) for err in exc.errors()]) from None


def _describe(name: str, root: Any, err: Any) -> str:
    loc = tuple(err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r} (expected {_expected(loc)})"
    elif err["type"] in _PLAIN:
        message = _PLAIN[err["type"]]
    return problem_at(name, root, loc, message)


_PLAIN = {
    "missing": "is missing",
    "tuple_type": "should be a list, e.g. [U0123ABCD, S0456EFGH]",
    "bool_parsing": "should be true or false",
    "bool_type": "should be true or false",
    "model_type": "should be a mapping with requesters, channels, approvers, standing and/or "
                  "standing_granters",
    "dict_type": "should be a mapping of tool names to rules",
    "string_type": "should be a Slack id (text)",
}


def _expected(loc: tuple[Any, ...]) -> str:
    if len(loc) == 1:
        return "channels, direct_messages, tools"
    return "requesters, channels, approvers, standing, standing_granters"


def _duplicate_keys(node: Any, loc: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], str, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                yield loc, key.value, key.start_mark.line + 1
            seen.add(key.value)
            yield from _duplicate_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index))
