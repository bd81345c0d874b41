"""The tool bridge: green tools answer with real data; red, unknown, malformed, over-budget
and slow calls raise clear exceptions inside the script."""

from __future__ import annotations

from dataclasses import replace

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from tests.sandbox.conftest import LocalServer, SideEffects


async def test_green_tool_returns_real_data(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits,
    http_server: LocalServer,
) -> None:
    code = (
        "import json\n"
        f"body = tools.http_get(url='{http_server.url}/items')\n"
        "items = json.loads(body)['items']\n"
        "result = {'count': len(items), 'first': items[0], 'upper': [i.upper() for i in items]}\n"
    )
    before = len(http_server.requests)
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == {"count": 3, "first": "alpha", "upper": ["ALPHA", "BETA", "GAMMA"]}
    assert http_server.requests[before:] == ["/items"]


async def test_fetch_and_process_a_page_in_the_package(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits,
    http_server: LocalServer,
) -> None:
    code = (
        f"page = tools.http_get(url='{http_server.url}/page?size=1000000')\n"
        "result = {'bytes': len(page), 'paragraphs': page.count('<p>')}\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result["paragraphs"] == 100_000
    assert outcome.result["bytes"] > 1_000_000


async def test_red_tool_is_refused_inside_the_script(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits,
    side_effects: SideEffects,
) -> None:
    code = "result = tools.send_email(to='boss@example.com', body='I quit')"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "ToolNotAllowed"
    assert "red tool" in (outcome.error or "")
    assert side_effects.emails == []


async def test_red_tool_refusal_can_be_caught_by_the_script(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits,
    side_effects: SideEffects,
) -> None:
    code = (
        "try:\n"
        "    tools.send_email(to='a@example.com', body='x')\n"
        "except ToolNotAllowed as exc:\n"
        "    result = {'refused': str(exc), 'is_tool_error': isinstance(exc, ToolError)}\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result["is_tool_error"] is True
    assert "red tool" in outcome.result["refused"]
    assert side_effects.emails == []


async def test_unknown_tool_is_refused(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    outcome = await sandbox.run("result = tools.rm_rf(path='/')", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "ToolNotAllowed"
    assert "unknown tool 'rm_rf'" in (outcome.error or "")
    assert "send_email" not in (outcome.error or "")  # only green tools are suggested


async def test_bad_arguments_are_refused(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    outcome = await sandbox.run("result = tools.echo(times=2)", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "ToolArgumentError"
    assert "text" in (outcome.error or "")
    unserialisable = await sandbox.run("result = tools.echo(text={1})", {}, gateway, limits)
    assert unserialisable.error_type == "ToolArgumentError"
    assert "JSON-serialisable" in (unserialisable.error or "")


async def test_call_budget_is_enforced(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = (
        "answers = []\n"
        "try:\n"
        "    for i in range(10):\n"
        "        answers.append(tools.echo(text=str(i))['text'])\n"
        "except ToolBudgetExceeded as exc:\n"
        "    result = {'answers': answers, 'error': str(exc)}\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result["answers"] == [str(i) for i in range(limits.tool_calls)]
    assert f"at most {limits.tool_calls} tool calls" in outcome.result["error"]


async def test_slow_tool_times_out(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    quick = replace(limits, tool_timeout_seconds=0.3)
    outcome = await sandbox.run("result = tools.slow(seconds=5)", {}, gateway, quick)
    assert not outcome.ok
    assert outcome.error_type in ("ToolTimeout", "ToolError")
    assert "did not answer within 0.3 s" in (outcome.error or "")


async def test_large_inputs_arrive_as_files_in_scratch(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    big = {"rows": [{"n": i, "text": "x" * 50} for i in range(20_000)]}
    code = (
        "import json, os\n"
        "path = input_files['big']\n"
        "on_disk = json.load(open(path))\n"
        "result = {'path': path, 'same': on_disk == inputs['big'], 'rows': len(inputs['big']['rows']),\n"
        "          'small': inputs['small'], 'small_is_file': 'small' in input_files}\n"
    )
    outcome = await sandbox.run(code, {"big": big, "small": [1, 2]}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == {"path": "/scratch/inputs/big.json", "same": True, "rows": 20_000,
                              "small": [1, 2], "small_is_file": False}
