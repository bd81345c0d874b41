"""Secrets stay in the engine: a tool's error that quotes a secret argument is masked before it
is stored, announced, audited or given to the joiner; so is the audited plan's every fan-out
item. (The model's key: tests/agent/test_engine_planning.py.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agent.errors import ToolError, TransientToolError
from agent.events import AnswerReady, AwaitingApproval, NodeFailed, ToolRetrying
from agent.execution.context import EngineSettings
from agent.execution.redaction import Redactor
from agent.plan.validation import validate_plan
from agent.ports.audit import masked_plan
from agent.ports.sandbox import EmitFn, PackageAttemptRecord, PackageJob, PackageOutcome, ToolGateway
from agent.tools.masking import MASK
from agent.tools.registry import RetryPolicy, Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, Harness, finish, services_on
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry

SECRET = "sk-SECRET-123"


class PostArgs(BaseModel):
    url: str
    headers: dict[str, str] = Field(default_factory=dict, json_schema_extra={"secret": True})


class FetchArgs(BaseModel):
    key: str
    token: str = Field(json_schema_extra={"secret": True})


async def post(url: str, headers: dict[str, str] | None = None) -> str:
    for value in (headers or {}).values():
        if "\n" in value:  # as http.client words it
            raise ValueError(f"Illegal header value {value.encode()!r}")
    return "posted"


def with_leaky_tools(registry: ToolRegistry) -> ToolRegistry:
    calls: dict[str, int] = {}

    async def fetch(key: str, token: str) -> str:
        calls[key] = calls.get(key, 0) + 1
        if calls[key] == 1:
            raise TransientToolError(f"busy; retry with token={token}")
        raise ToolError(f"token {token!r} refused for {key}")

    registry.add(StructuredTool.from_function(coroutine=post, name="post", description="Post.",
                                              args_schema=PostArgs), Risk.RED)
    registry.add(StructuredTool.from_function(coroutine=fetch, name="fetch", description="Fetch.",
                                              args_schema=FetchArgs), Risk.GREEN,
                 retry=RetryPolicy(attempts=2, backoff_seconds=0.01))
    return registry


class CallingPackage:
    """Package code that calls one tool through the engine's gateway and fails with the
    error it was given."""

    max_attempts = 1

    def __init__(self, tool: str, args: dict[str, Any]) -> None:
        self.tool, self.args = tool, args
        self.errors: list[str] = []

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        try:
            await tools.call(self.tool, self.args)
        except ToolError as exc:
            self.errors.append(str(exc))
        error = f"ToolError: {self.errors[-1]}" if self.errors else "no error"
        return PackageOutcome(ok=False, error=error, attempts=[PackageAttemptRecord(1, job.code, error)])


@asynccontextmanager
async def engine(stores: str, replies: list[object],
                 packages: CallingPackage | None = None) -> AsyncIterator[Harness]:
    log = ToolLog()
    llm = ScriptedChatModel(replies=replies)
    async with services_on(
        stores, llm, with_leaky_tools(simulated_registry(log)), packages=packages or ScriptedPackages(),
        engine_config=EngineSettings(decision_poll_seconds=0.2),
    ) as services:
        yield Harness(services, llm, log, ScriptedPackages(), services.events.open())


async def outside(h: Harness, thread_id: str) -> str:
    """What left the engine: the events' errors, the stored results, the audit trail and the
    joiner's prompt (not the plan's events: the plan is the planner's own words)."""
    said = [getattr(e, name) for e in h.drain() for name in ("error", "reason", "error_gist")
            if hasattr(e, name)]
    results = (await h.engine.state(thread_id))["results"]
    audit = [e.detail for e in await h.services.store.audit_entries()]
    joiner = [m.content for m in h.llm.calls[-1]]
    return json.dumps([said, results, audit, joiner], default=str, ensure_ascii=False)


async def test_a_red_calls_error_quoting_its_secret_header_is_masked_everywhere() -> None:
    plan = {"nodes": [{"id": "hook", "tool": "post", "args": {
        "url": "https://hooks.example.com/x", "headers": {"Authorization": f"Bearer {SECRET}\n"}}}]}
    async with engine(MEMORY, [plan, finish("it failed")]) as h:
        await h.engine.ask("s1", "post it", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.next_event(AnswerReady)
        failed = next(e for e in h.drain() if isinstance(e, NodeFailed))
        assert failed.error == f"ValueError: Illegal header value b'{MASK}'"
        assert (await h.engine.state("s1"))["results"]["hook"]["error"] == failed.error
        execution = await h.services.store.get_execution(asked.approval_id)
        assert execution is not None and execution.error == failed.error
        seen = await outside(h, "s1")
        assert SECRET not in seen and MASK in seen


async def test_fan_out_items_errors_and_retries_mask_each_items_secret() -> None:
    plan = {"nodes": [{"id": "both", "tool": "fetch", "args": {},
                       "each": [{"key": "a", "token": "tok-SECRET-A"}, {"key": "b", "token": "tok-SECRET-B"}]}]}
    async with engine(MEMORY, [plan, finish("both failed")]) as h:
        await h.engine.ask("s2", "fetch a and b")
        await h.next_event(AnswerReady)
        failed = next(e for e in h.drain() if isinstance(e, NodeFailed))
        assert failed.error.startswith("2 of 2 calls failed: item 0")
        assert f"token '{MASK}' refused for a" in failed.error and f"token '{MASK}' refused for b" in failed.error
        assert sorted(e.error_gist for e in h.events if isinstance(e, ToolRetrying)) == [
            f"busy; retry with token={MASK}"] * 2
        assert "tok-SECRET" not in await outside(h, "s2")


async def test_package_code_gets_a_tool_error_without_the_calls_secret() -> None:
    package = CallingPackage("fetch", {"key": "p", "token": "tok-SECRET-P"})
    plan = {"nodes": [{"id": "pkg", "package": {"goal": "fetch p", "code": "result = tools.fetch(...)"}}]}
    async with engine(MEMORY, [plan, finish("no")], packages=package) as h:
        await h.engine.ask("s3", "fetch p in a package")
        await h.next_event(AnswerReady)
        assert package.errors == [f"token '{MASK}' refused for p"]
        assert "tok-SECRET" not in await outside(h, "s3")


def test_the_audited_plan_masks_secrets_in_args_and_each_fan_out_item() -> None:
    registry = with_leaky_tools(ToolRegistry())
    plan = validate_plan({"nodes": [
        {"id": "x", "tool": "fetch", "args": {"token": "tok-SECRET-0"},
         "each": [{"key": "a", "token": "tok-SECRET-1"}, {"key": "b", "token": "tok-SECRET-2"}]}]}, registry)
    recorded = masked_plan(plan.model_dump(exclude_none=True), registry)
    assert recorded["nodes"][0]["args"] == {"token": MASK}
    assert recorded["nodes"][0]["each"] == [{"key": "a", "token": MASK}, {"key": "b", "token": MASK}]


@pytest.mark.parametrize("quoted", [
    "Bearer sk-SECRET-123\n",                    # as it is
    "'Bearer sk-SECRET-123\\n'",                 # repr
    "b'Bearer sk-SECRET-123\\n'",                # bytes repr
    '"Bearer sk-SECRET-123\\n"',                 # JSON
    "Bearer%20sk-SECRET-123%0A",                 # URL-encoded
    "token sk-SECRET-123 refused",               # its long word alone
])
def test_a_secret_is_masked_in_the_forms_messages_quote_it_in(quoted: str) -> None:
    assert "sk-SECRET" not in Redactor(["Bearer sk-SECRET-123\n"])(f"error: {quoted}")


def test_a_short_secret_is_masked_only_where_it_stands_alone() -> None:
    redact = Redactor(["7"])
    assert redact("pin 7 refused (HTTP 417)") == f"pin {MASK} refused (HTTP 417)"
    assert Redactor()("nothing to hide") == "nothing to hide"
