"""DAGBOT_PLAN_OUTPUT=auto's probe: the plan held to its schema wherever the server holds replies
to one, the forced tool call where it refuses or ignores the format (issue 43)."""

from __future__ import annotations

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.model.output_probe import PROBE_NAME, probe_plan_output
from tests.fakes.openai_server import FakeOpenAI


def client(fake: FakeOpenAI) -> ChatOpenAI:
    return ChatOpenAI(model="m", base_url=fake.url, api_key=SecretStr("sk-x"), max_retries=0)


async def test_a_server_holding_replies_to_a_schema_gets_the_plan_held_to_its_schema() -> None:
    with FakeOpenAI([]) as fake:
        probed = await probe_plan_output(client(fake))
    assert probed.mode == "json_schema"
    assert "held a reply to a JSON schema" in probed.why
    [request] = fake.requests
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["name"] == PROBE_NAME
    assert request.get("max_completion_tokens", request.get("max_tokens")) <= 32  # a short reply


async def test_a_server_refusing_the_format_gets_the_forced_tool_call() -> None:
    with FakeOpenAI([], json_schema=False) as fake:
        probed = await probe_plan_output(client(fake))
    assert probed.mode == "tool_call"
    assert "refused a json_schema response format" in probed.why and "HTTP 400" in probed.why


async def test_a_server_ignoring_the_format_gets_the_forced_tool_call() -> None:
    ignoring = GenericFakeChatModel(messages=iter([AIMessage("Hello")]))
    probed = await probe_plan_output(ignoring)
    assert probed.mode == "tool_call"
    assert "did not hold its reply" in probed.why


async def test_an_unreachable_server_gets_the_mode_every_server_takes() -> None:
    with FakeOpenAI([]) as fake:
        url = fake.url
    unreachable = ChatOpenAI(model="m", base_url=url, api_key=SecretStr("sk-x"), max_retries=0, timeout=5)
    probed = await probe_plan_output(unreachable)
    assert probed.mode == "tool_call"
    assert probed.why.startswith("could not ask the server")
    assert "sk-x" not in probed.why
