"""A tool's secret arguments reach the tool as given: masking is for what people see (approval
messages, the audit trail), never for the call itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, SecretStr

from agent.events import AnswerReady, AwaitingApproval
from agent.execution.context import EngineSettings
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, Harness, finish, services_on
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry


class RotateArgs(BaseModel):
    service: str
    token: SecretStr
    fallbacks: list[SecretStr] = []


def rotate_tool(seen: list[Any]) -> StructuredTool:
    async def rotate(service: str, token: SecretStr, fallbacks: list[SecretStr] | None = None) -> str:
        seen.append([token.get_secret_value(), *(f.get_secret_value() for f in fallbacks or [])])
        return f"rotated {service}"

    return StructuredTool.from_function(coroutine=rotate, name="rotate", description="Rotate a token.",
                                        args_schema=RotateArgs)


@asynccontextmanager
async def engine_with_rotate(url: str, replies: list[Any], seen: list[Any], risk: Risk) -> AsyncIterator[Harness]:
    log = ToolLog()
    registry = simulated_registry(log)
    registry.add(rotate_tool(seen), risk)
    llm = ScriptedChatModel(replies=replies)
    async with services_on(url, llm, registry, packages=ScriptedPackages(),
                           engine_config=EngineSettings(decision_poll_seconds=0.2)) as services:
        yield Harness(services, llm, log, ScriptedPackages(), services.events.open())


PLAN = {"nodes": [{"id": "r", "tool": "rotate", "args": {"service": "web", "token": "hunter2"}}]}


def test_validated_arguments_keep_their_secrets_and_the_registry_knows_which_they_are() -> None:
    registry = ToolRegistry()
    registry.add(rotate_tool([]), Risk.RED)
    args = registry.validate_args("rotate", {"service": "web", "token": "hunter2", "fallbacks": ["a", "b"]})
    assert args == {"service": "web", "token": "hunter2", "fallbacks": ["a", "b"]}
    assert "token" in registry.secret_args("rotate")


async def test_a_green_tool_is_called_with_the_secret() -> None:
    seen: list[Any] = []
    async with engine_with_rotate(MEMORY, [PLAN, finish("ok")], seen, Risk.GREEN) as h:
        await h.engine.ask("t", "rotate", requested_by="U1")
        await h.next_event(AnswerReady)
    assert seen == [["hunter2"]]


async def test_an_approved_red_tool_is_called_with_the_secret() -> None:
    seen: list[Any] = []
    async with engine_with_rotate(MEMORY, [PLAN, finish("ok")], seen, Risk.RED) as h:
        await h.engine.ask("t", "rotate", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.next_event(AnswerReady)
    assert seen == [["hunter2"]]


class Credentials(BaseModel):
    user: str
    password: SecretStr


class Node(BaseModel):
    name: str
    children: list[Node] = []


class HiddenArgs(BaseModel):
    plain: str
    optional: SecretStr | None = None
    listed: list[SecretStr] = []
    nested: Credentials | None = None
    tree: Node | None = None  # (a recursive model, no secret in it)


def test_a_secret_anywhere_inside_an_argument_makes_the_whole_argument_secret() -> None:
    async def call(**kwargs: Any) -> str:
        return "ok"

    registry = ToolRegistry()
    registry.add(StructuredTool.from_function(coroutine=call, name="hidden", description="x",
                                              args_schema=HiddenArgs), Risk.RED)
    schema = {"type": "object", "properties": {
        "key": {"anyOf": [{"type": "string", "secret": True}, {"type": "null"}]}, "note": {"type": "string"}}}
    registry.add(StructuredTool(name="mcp", description="x", args_schema=schema,
                                coroutine=call), Risk.RED)
    assert registry.secret_args("hidden") == {"optional", "listed", "nested"}
    assert registry.secret_args("mcp") == {"key"}
    masked = registry.masked("hidden", {"plain": "p", "optional": "hunter2", "nested": {"user": "u", "password": "pw"}})
    assert "hunter2" not in str(masked) and "pw" not in str(masked) and masked["plain"] == "p"
