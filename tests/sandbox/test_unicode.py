"""Text that is not valid Unicode (a lone surrogate: how Python gives a file name that is not
UTF-8) never breaks the channel, on every backend: in a tool's reply, in the inputs, or in a
forged ``done`` frame, the run returns a result or a clear error instead of raising."""

from __future__ import annotations

import json

from langchain_core.tools import StructuredTool

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from agent.tools.registry import Risk, ToolRegistry
from sandbox.reflexion import summarise_inputs

from .test_channel_limits import FORGE

ODD_NAME = "caf\udce9.txt"
"""b"caf\\xe9.txt" (latin-1) as os.listdir gives it."""


async def test_a_tool_reply_with_a_lone_surrogate_reaches_the_package(
    sandbox: Sandbox, registry: ToolRegistry, limits: SandboxLimits
) -> None:
    async def list_names() -> list[str]:
        """List file names."""
        return [ODD_NAME, "notes.txt"]

    registry.add(StructuredTool.from_function(coroutine=list_names, name="list_names"), Risk.GREEN)
    code = "names = tools.list_names()\nresult = [len(names), names[0].startswith('caf')]\n"
    outcome = await sandbox.run(code, {}, GreenToolGateway(registry, 2), limits)
    assert outcome.ok, outcome
    assert outcome.result == [2, True]


async def test_inputs_with_a_lone_surrogate_reach_the_package(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    inputs = {"listing": {"files": [{"path": ODD_NAME}]},
              "big": {"files": [{"path": ODD_NAME}] * 10_000}}  # sent as a file frame
    code = "result = [len(inputs['listing']['files']), len(inputs['big']['files'])]\n"
    outcome = await sandbox.run(code, inputs, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == [1, 10_000]


async def test_a_forged_result_with_a_lone_surrogate_is_a_protocol_error(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    for result_json in (r'"\ud800"', r'{"k": "\ud800"}'):  # raw in the frame, escaped in the JSON
        frame = '{"t": "done", "ok": true, "result_json": ' + json.dumps(result_json) + "}"
        code = FORGE + f"forge({frame.encode()!r})\nos._exit(0)\n"
        outcome = await sandbox.run(code, {}, gateway, limits)
        assert outcome.error_type == "SandboxProtocolError", (result_json, outcome)


async def test_a_forged_result_of_nan_is_a_protocol_error(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + "forge({'t': 'done', 'ok': True, 'result_json': '[NaN, Infinity]'})\nos._exit(0)\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.error_type == "SandboxProtocolError"


async def test_a_forged_error_with_a_lone_surrogate_arrives_as_valid_text(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    frame = rb'{"t": "done", "ok": false, "type": "KeyError", "error": "caf\udce9", "traceback": ""}'
    code = FORGE + f"forge({frame!r})\nos._exit(0)\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.error_type == "KeyError"
    assert (outcome.error or "").startswith("caf")
    (outcome.error or "").encode("utf-8")  # no lone surrogate left


def test_the_reflexion_models_view_of_inputs_is_valid_text() -> None:
    """A file name that is not valid UTF-8 (a lone surrogate in Python) in a package's inputs
    must not break the request to the reflexion model."""
    summary = summarise_inputs({"files": ["caf\udce9.txt", "notes.md"]})
    assert "caf\\udce9.txt" in summary and "notes.md" in summary  # (as Python writes it)
    summary.encode("utf-8")  # strict: raises on a lone surrogate
