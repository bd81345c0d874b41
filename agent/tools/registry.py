"""The tool registry: every tool the planner may use, with its risk level.

A tool's risk (green: read-only, red: changes something) is set here, where the
tool is registered, and never by a plan.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.utils.pydantic import model_json_schema
from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from pydantic_core import to_jsonable_python

from agent.errors import ConfigurationError, ToolArgumentError, ToolNotAllowed
from agent.tools.argument_errors import describe, problems_in
from agent.tools.masking import MASK


class Risk(StrEnum):
    GREEN = "green"
    RED = "red"


SECRET = "secret"  # noqa: S105 - the schema key, not a password
"""Mark an argument secret in its schema: ``Field(json_schema_extra={"secret": True})``
(``SecretStr`` fields, which the schema calls ``writeOnly``, count too)."""

@dataclass(frozen=True)
class RetryPolicy:
    """How a green tool's call is tried again after a :class:`TransientToolError` (red calls
    never are: they run at most once)."""

    attempts: int = 3
    """Calls at most, the first included; 1 never retries."""
    backoff_seconds: float = 0.5
    """Delay before the second call; it doubles for each call after that."""
    max_backoff_seconds: float = 8.0
    jitter: float = 0.5
    """Each delay is drawn uniformly from [delay × (1 - jitter), delay], so calls that failed
    together do not come back together."""

    def delay(self, failed_attempt: int, draw: float) -> float:
        """Seconds to wait after attempt ``failed_attempt`` (1-based); ``draw`` is in [0, 1)."""
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (failed_attempt - 1))
        return ceiling * (1 - self.jitter * draw)


_NESTED = ("anyOf", "oneOf", "allOf", "prefixItems")
_INNER = ("items", "additionalProperties", "not")


def holds_secret(schema: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether an argument's schema marks it, or anything inside it, secret (``secret`` or
    ``writeOnly``): an optional ``SecretStr`` (``anyOf``), a list of them, a model holding one
    (``$ref``). The whole argument is then masked."""
    if not isinstance(schema, dict):
        return False
    if schema.get(SECRET) or schema.get("writeOnly"):
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        target = defs.get(ref.rsplit("/", 1)[-1])
        if holds_secret(target, defs, seen | {ref}):
            return True
    branches = [b for key in _NESTED for b in (schema.get(key) or [])]
    branches += [schema.get(key) for key in _INNER]
    branches += list((schema.get("properties") or {}).values())
    return any(holds_secret(branch, defs, seen) for branch in branches)


@dataclass(frozen=True)
class ArgumentRefusal:
    """Why a call's arguments would be refused when it ran: ``target`` (a host), as a request
    would name it, and the tool's words."""

    target: str
    why: str


PlanCheck = Callable[[dict[str, Any]], ArgumentRefusal | None]
"""A tool's check of one call's literal arguments at plan time: the refusal, or None."""


@dataclass(frozen=True)
class ToolSpec:
    tool: BaseTool
    risk: Risk
    secret: frozenset[str] = frozenset()
    """Arguments named secret when the tool was registered (besides those its schema marks)."""
    retry: RetryPolicy | None = None
    """This tool's retry policy; None: the engine's default (DAGBOT_TOOL_ATTEMPTS)."""
    cacheable: bool = True
    """An identical green call in the same thread may reuse this tool's recent result
    (DAGBOT_RESULT_CACHE_TTL). False for tools whose answer changes from call to call."""
    returns: frozenset[str] | None = None
    """The keys of the object the tool returns (some may be absent from a given result), when
    declared: package code reading another key of its output is mended or told so."""
    effects: frozenset[str] | None = None
    """What a red tool changes (:data:`agent.tools.effects.EFFECT_WORDS`' effects), when declared:
    a call of it for a request that asks for none of these is not what was asked."""
    plan_check: PlanCheck | None = None
    """A check of one call's arguments against the tool's configuration, made when a plan is
    validated (:mod:`agent.plan.refused_calls`). The HTTP tools' refuses a host their allow or
    deny list refuses, so that a plan fetching an address copied from an example is repaired
    before it runs instead of failing when it does."""
    fill_ins: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Values for required arguments a plan leaves out, given before the plan is checked (the
    mend ``missing-fill-ins``; the approver sees them). The planner is still shown the argument
    as required, so its prompt, which every first plan depends on, does not change: shown as
    optional, ``send_email``'s subject changed two of ten first plans of bench.quality's holdout
    set for the worse (docs/benchmarks.md)."""
    untrusted_output: bool = True
    """What the tool returns comes from outside dagbot (a page, a file, a database's rows, an
    MCP server's reply): the planner and the joiner are shown it marked as data, never as
    instructions (:mod:`agent.model.untrusted`). False only for a tool whose output is
    dagbot's own (a path written, a message id)."""

    @property
    def name(self) -> str:
        return self.tool.name

    @property
    def description(self) -> str:
        return self.tool.description

    def args_model(self) -> type[BaseModel] | None:
        schema = self.tool.args_schema
        return schema if isinstance(schema, type) and issubclass(schema, BaseModel) else None

    def json_schema(self) -> dict[str, Any]:
        """The arguments' whole JSON schema (``properties``, ``required``…), whatever the tool
        was given: a pydantic model, a JSON-schema dict (as MCP adapters make), or nothing (the
        schema LangChain derives from the function). A copy: the caller may change it."""
        return copy.deepcopy(self._schema)

    @cached_property
    def _schema(self) -> dict[str, Any]:
        # Made once per registration: pydantic builds a schema in about a millisecond, and the
        # engine asks for it on every node (secret arguments, text arguments).
        declared = self.tool.args_schema
        if isinstance(declared, dict):
            return copy.deepcopy(declared)
        model = self.args_model()
        if model is not None:
            return model.model_json_schema()
        derived = self.tool.tool_call_schema
        return copy.deepcopy(derived) if isinstance(derived, dict) else model_json_schema(derived)

    @cached_property
    def text_args(self) -> frozenset[str]:
        """The arguments that take only text (a JSON-schema string)."""
        properties = self._schema.get("properties") or {}
        return frozenset(arg for arg, schema in properties.items()
                         if isinstance(schema, dict) and schema.get("type") == "string")

    @cached_property
    def address_args(self) -> frozenset[str]:
        """The arguments that take mail addresses: their schema (or a branch of it, or its
        items) says ``"format": "email"``."""
        properties = self._schema.get("properties") or {}
        return frozenset(arg for arg, schema in properties.items() if _says_email(schema))

    def secret_args(self) -> frozenset[str]:
        """Arguments never shown outside the engine: not in Slack, the audit trail or a log."""
        return self._secret_args

    @cached_property
    def _secret_args(self) -> frozenset[str]:
        schema = self._schema
        defs = schema.get("$defs") or schema.get("definitions") or {}
        marked = {name for name, prop in schema.get("properties", {}).items() if holds_secret(prop, defs)}
        return self.secret | marked

    def masked(self, args: dict[str, Any]) -> dict[str, Any]:
        """The arguments with every secret one's value replaced by :data:`MASK`."""
        secret = self.secret_args()
        return {k: (MASK if k in secret and v is not None else v) for k, v in args.items()}


RESERVED_NAMES = frozenset({"id", "tool", "args", "each", "package", "depends_on", "why"})
"""A plan node's own fields (``agent.plan.format.NODE_FIELDS``): a node names its tool by a
key beside them (``{"id": "log", "read_file": {…}}``), so no tool may be named like one."""


class ToolRegistry:
    """Name → tool with its risk level."""

    def __init__(self) -> None:
        self._specs: dict[str, ToolSpec] = {}

    def add(self, tool: BaseTool, risk: Risk | str, *, secret: Iterable[str] = (),
            retry: RetryPolicy | None = None, cacheable: bool = True,
            returns: Iterable[str] | None = None, effects: Iterable[str] | None = None,
            untrusted_output: bool = True, plan_check: PlanCheck | None = None,
            fill_ins: Mapping[str, Any] | None = None) -> None:
        """Register a tool; ``secret`` names arguments never to be shown (masked in Slack and
        in the audit trail), like arguments whose schema marks them secret; ``returns``: the
        keys of the object it returns, when it always returns one; ``effects``: what a red tool
        changes (:mod:`agent.tools.effects`); ``untrusted_output``: False when what it returns
        is dagbot's own, not text from outside (:attr:`ToolSpec.untrusted_output`); ``plan_check``:
        a check of a call's arguments when a plan is validated (:attr:`ToolSpec.plan_check`);
        ``fill_ins``: values for required arguments a plan leaves out (:attr:`ToolSpec.fill_ins`)."""
        if tool.name in self._specs:
            raise ConfigurationError(f"tool '{tool.name}' is registered twice")
        if tool.name in RESERVED_NAMES:
            raise ConfigurationError(f"a tool may not be named '{tool.name}', a field of a plan's node: "
                                     f"rename it (reserved: {', '.join(sorted(RESERVED_NAMES))})")
        self._specs[tool.name] = ToolSpec(tool=tool, risk=Risk(risk), secret=frozenset(secret),
                                          retry=retry, cacheable=cacheable,
                                          returns=None if returns is None else frozenset(returns),
                                          effects=None if effects is None else frozenset(effects),
                                          untrusted_output=untrusted_output, plan_check=plan_check,
                                          fill_ins=dict(fill_ins or {}))

    def remove(self, name: str) -> None:
        """Unregister tool ``name`` (a tool its MCP server no longer offers); unknown: nothing."""
        self._specs.pop(name, None)

    def returns_of(self, name: str) -> frozenset[str] | None:
        """The keys tool ``name``'s output object has (None: not declared, or no such tool)."""
        return self._specs[name].returns if name in self._specs else None

    def fill_ins_of(self, name: str) -> Mapping[str, Any]:
        """Values for tool ``name``'s required arguments a plan leaves out (none for unknown tools)."""
        return self._specs[name].fill_ins if name in self._specs else {}

    def effects_of(self, name: str) -> frozenset[str] | None:
        """What red tool ``name`` changes (None: not declared, or no such tool)."""
        return self._specs[name].effects if name in self._specs else None

    def secret_args(self, name: str) -> frozenset[str]:
        """Arguments of tool ``name`` never shown outside the engine (unknown tools: none)."""
        return self._specs[name].secret_args() if name in self._specs else frozenset()

    def masked(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """``args`` of tool ``name`` as they may be shown (unknown tools: as they are)."""
        return self._specs[name].masked(args) if name in self._specs else dict(args)

    def get(self, name: str) -> ToolSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise ToolNotAllowed(f"unknown tool '{name}' (known tools: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def without(self, names: Iterable[str]) -> ToolRegistry:
        """The same tools less ``names`` (what one request may use)."""
        dropped = set(names)
        narrowed = ToolRegistry()
        narrowed._specs = {n: s for n, s in self._specs.items() if n not in dropped}
        return narrowed

    def names(self, risk: Risk | None = None) -> list[str]:
        return [s.name for s in self if risk is None or s.risk == risk]

    def risk_of(self, name: str) -> Risk:
        return self.get(name).risk

    def address_args(self, name: str) -> frozenset[str]:
        """The arguments of tool ``name`` that take mail addresses."""
        return self.get(name).address_args

    def text_args(self, name: str) -> frozenset[str]:
        """The arguments of tool ``name`` that take only text (a JSON-schema string)."""
        return self.get(name).text_args

    def validate_args(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Check ``args`` against the tool's schema; return them as the tool will see them."""
        spec = self.get(name)
        model = spec.args_model()
        if model is None:
            return dict(args)
        try:
            parsed = model.model_validate(args)
        except ValidationError as exc:
            raise ToolArgumentError(
                f"bad arguments for '{name}': {describe(problems_in(exc, spec.secret_args()))}"
            ) from None
        dumped = to_jsonable_python(_revealed(parsed.model_dump()))  # (JSON mode would mask secrets)
        return {k: v for k, v in dumped.items() if k in args or v is not None}

    def load_modules(self, module_names: Iterable[str]) -> None:
        """Import each module and call its ``register(registry)`` function."""
        for module_name in module_names:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ConfigurationError(
                    f"cannot import tool module '{module_name}' named in DAGBOT_TOOLS: {exc}"
                ) from exc
            register = getattr(module, "register", None)
            if not callable(register):
                raise ConfigurationError(
                    f"tool module '{module_name}' has no register(registry) function"
                )
            register(self)


def _says_email(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    return schema.get("format") == "email" or _says_email(schema.get("items")) \
        or any(_says_email(branch) for branch in schema.get("anyOf") or schema.get("oneOf") or ())


def _revealed(value: Any) -> Any:
    """``value`` with every ``SecretStr``/``SecretBytes`` replaced by what it holds: the tool is
    called with the secret itself (masking is for what people see, see ``secret_args``)."""
    if isinstance(value, SecretStr | SecretBytes):
        secret = value.get_secret_value()
        return secret.decode() if isinstance(secret, bytes) else secret
    if isinstance(value, dict):
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_revealed(v) for v in value]
    return value


def to_jsonable(value: Any) -> Any:
    """Tool outputs must be JSON; anything else becomes its string form."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)
