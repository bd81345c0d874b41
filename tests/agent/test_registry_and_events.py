"""The tool registry (risk levels, custom modules, argument checks) and the event stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.tools import StructuredTool

from agent.errors import ConfigurationError, ToolArgumentError, ToolNotAllowed
from agent.events import EventBus, NodeStarted, Planning, RunEvent
from agent.execution.gateway import GreenToolGateway
from agent.model.prompting import describe_tools
from agent.tools.masking import MASK
from agent.tools.registry import Risk, ToolRegistry


def test_custom_tool_modules_register_with_their_risk() -> None:
    registry = ToolRegistry()
    registry.load_modules(["tests.agent.custom_tools.ops"])
    assert registry.risk_of("restart_service") is Risk.RED
    assert registry.risk_of("service_status") is Risk.GREEN
    assert registry.names(Risk.RED) == ["restart_service"]


@pytest.mark.parametrize(("module", "message"), [
    ("tests.agent.custom_tools.missing", "cannot import tool module 'tests.agent.custom_tools.missing'"),
    ("tests.agent.custom_tools.no_register", "has no register(registry) function"),
])
def test_bad_tool_modules_fail_loudly(module: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ToolRegistry().load_modules([module])


def test_a_tool_registered_twice_is_refused() -> None:
    registry = ToolRegistry()
    registry.load_modules(["tests.agent.custom_tools.ops"])
    with pytest.raises(ConfigurationError, match="registered twice"):
        registry.load_modules(["tests.agent.custom_tools.ops"])


RESTART_SCHEMA = {"type": "object", "properties": {
    "service": {"type": "string", "description": "Which service."},
    "api_token": {"type": "string", "secret": True}}, "required": ["service", "api_token"]}


async def restart(**kwargs: Any) -> str:
    return "restarted"


def test_a_tool_with_a_json_schema_dict_has_its_whole_schema_and_its_secrets() -> None:
    registry = ToolRegistry()  # as MCP adapters make them: args_schema is a JSON-schema dict
    registry.add(StructuredTool(name="restart", description="Restart a service.", args_schema=RESTART_SCHEMA,
                                coroutine=restart), Risk.RED)
    assert registry.get("restart").json_schema() == RESTART_SCHEMA
    assert registry.secret_args("restart") == {"api_token"}
    assert registry.masked("restart", {"service": "web", "api_token": "t"}) == {"service": "web",
                                                                             "api_token": MASK}
    assert "`restart(service: string, api_token: string)`" in describe_tools(registry)


def test_the_arguments_that_take_mail_addresses_are_those_whose_schema_says_email() -> None:
    notify = {"type": "object", "properties": {
        "channel": {"type": "string"},
        "owner": {"type": "string", "format": "email"},
        "watchers": {"type": "array", "items": {"type": "string", "format": "email"}},
        "escalate_to": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]}}}
    registry = ToolRegistry()  # (an MCP server's tool: a JSON-schema dict)
    registry.add(StructuredTool(name="notify", description="Notify.", args_schema=notify, coroutine=restart),
                 Risk.RED)
    assert registry.address_args("notify") == {"owner", "watchers", "escalate_to"}
    registry.add(StructuredTool(name="restart", description="Restart.", args_schema=RESTART_SCHEMA,
                                coroutine=restart), Risk.RED)
    assert registry.address_args("restart") == frozenset()


async def test_the_gateway_runs_green_tools_and_refuses_red_and_unknown_ones() -> None:
    registry = ToolRegistry()
    registry.load_modules(["tests.agent.custom_tools.ops"])
    gateway = GreenToolGateway(registry)
    assert await gateway.call("service_status", {"name": "web"}) == "web is running"
    with pytest.raises(ToolNotAllowed, match="'restart_service' is a red tool"):
        await gateway.call("restart_service", {"name": "web"})
    with pytest.raises(ToolNotAllowed, match="unknown tool 'rm_rf'"):
        await gateway.call("rm_rf", {})
    with pytest.raises(ToolArgumentError, match="bad arguments for 'service_status': name: Field required"):
        await gateway.call("service_status", {})


async def test_event_bus_delivers_per_thread_and_to_everyone() -> None:
    bus = EventBus()
    seen_all: list[RunEvent] = []
    seen_t1: list[RunEvent] = []

    async def collect(target: list[RunEvent], thread: str | None, count: int) -> None:
        async for event in bus.subscribe(thread):
            target.append(event)
            if len(target) == count:
                return

    tasks = [asyncio.create_task(collect(seen_all, None, 2)), asyncio.create_task(collect(seen_t1, "t1", 1))]
    await asyncio.sleep(0)
    await bus.publish(Planning(thread_id="t1", run_id="r", request="x"))
    await bus.publish(NodeStarted(thread_id="t2", run_id="r", node_id="a", label="lookup"))
    await asyncio.gather(*tasks)
    assert [e.thread_id for e in seen_all] == ["t1", "t2"]
    assert [type(e) for e in seen_t1] == [Planning]


def test_the_planner_sees_what_a_tool_does_and_returns_not_its_limits() -> None:
    from agent.model.prompting import essentials

    described = ("Read a text file from the workspace. Returns {path, content, size, truncated}; only the "
                 "first 1,000 bytes. Binary files are refused. Paths outside it are refused.")
    assert essentials(described) == ("Read a text file from the workspace. Returns {path, content, size, "
                                     "truncated}; only the first 1,000 bytes.")
    assert essentials("Restart a service (e.g. web). Needs a token.") == "Restart a service (e.g. web)."


@pytest.mark.parametrize("name", ["args", "package", "depends_on"])
def test_a_tool_named_as_a_field_of_a_node_is_refused(name: str) -> None:
    """A plan's node names its tool by a key (``{"lookup": {...}}``): a tool named like a node's
    own field could not be told from it."""
    tool = StructuredTool.from_function(lambda: "x", name=name, description="d")
    with pytest.raises(ConfigurationError, match=f"may not be named '{name}'"):
        ToolRegistry().add(tool, Risk.GREEN)
