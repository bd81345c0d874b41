"""The host checks everything that comes over the channel itself, on every backend: the
package shares the runner's process, so it can always write frames of its own."""

from __future__ import annotations

from dataclasses import replace

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.protocol import TEXT_FIELD_CHARS

PROTO_OUT = 4
"""The runner's protocol descriptor (its dup of fd 1): what a hostile script writes to."""

FORGE = f"""
import json, os, struct
def forge(frame):
    data = frame if isinstance(frame, bytes) else json.dumps(frame).encode()
    os.write({PROTO_OUT}, struct.pack('>I', len(data)) + data)
"""


async def test_a_deeply_nested_frame_is_a_protocol_error(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + (
        "forge(b'{\"t\": \"out\", \"data\": ' + b'[' * 100_000 + b']' * 100_000 + b'}')\n"
        "result = 1\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxProtocolError"
    assert "nested too deeply" in (outcome.error or "")


async def test_a_forged_result_nested_deeply_is_a_protocol_error(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + (
        "forge({'t': 'done', 'ok': True, 'result_json': '[' * 30_000 + ']' * 30_000})\n"
        "os._exit(0)\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxProtocolError"


async def test_a_forged_done_frame_is_held_to_the_result_cap(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    production = replace(limits, output_bytes=SandboxLimits().output_bytes)
    code = FORGE + (
        "forge({'t': 'done', 'ok': True, 'result_json': json.dumps('x' * 2_000_000)})\n"
        "os._exit(0)\n"
    )
    outcome = await sandbox.run(code, {}, gateway, production)
    assert outcome.ok, outcome
    assert isinstance(outcome.result, str)
    assert "[truncated …: the result was 2000002 bytes of JSON" in outcome.result
    assert len(outcome.result.encode()) <= production.output_bytes


async def test_a_forged_done_frame_cannot_claim_an_infrastructure_failure(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + (
        "forge({'t': 'done', 'ok': False, 'type': 'SandboxError', 'error': 'not me',\n"
        "       'traceback': '', 'size': 1, 'risk': 'green', 'approved': True})\n"
        "os._exit(0)\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxRunnerError"  # reflexion may still rewrite the code


async def test_a_frame_with_fields_of_the_wrong_type_is_a_protocol_error(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + "forge({'t': 'out', 'data': ['not', 'text']})\nresult = 1\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxProtocolError"


async def test_what_a_frame_says_about_its_own_size_is_ignored(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + "forge({'t': 'out', 'data': 'hi', 'dropped': 10**15})\nresult = 1\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.stdout == "hi"


async def test_running_out_of_memory_while_serialising_the_result_is_the_memory_limit(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    # the string fits; its JSON copy (and that copy's UTF-8 bytes) do not
    outcome = await sandbox.run("result = 'é' * 40_000_000", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "MemoryLimitExceeded", outcome
    assert f"{limits.memory_mb} MB" in (outcome.error or "")


async def test_stderr_is_capped_at_the_source(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "import sys\nsys.stderr.write('e' * 5_000_000 + 'LAST')\nresult = 1"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert "bytes: stderr is capped at the source]" in outcome.stderr
    assert "output is capped at" not in outcome.stderr  # the host had nothing left to cut
    assert outcome.stderr.endswith("LAST")


async def test_the_channel_pushes_back_while_the_host_serves_a_call(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """While the host waits for a slow tool it reads nothing from the sandbox: a thread
    flooding the channel is blocked after what the pipes and socket buffers hold, instead of
    the host buffering everything it writes."""
    code = (
        "import threading\n"
        "sent = [0]\n"
        "stop = threading.Event()\n"
        "channel = tools._channel\n"
        "def flood():\n"
        "    chunk = 'x' * 65536\n"
        "    while not stop.is_set():\n"
        "        channel.send({'t': 'out', 'data': chunk})\n"
        "        sent[0] += len(chunk)\n"
        "threading.Thread(target=flood, daemon=True).start()\n"
        "before = sent[0]\n"
        "tools.slow(seconds=1)\n"
        "during = sent[0] - before\n"
        "stop.set()\n"
        "result = during\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result < 32 * 1024 * 1024, f"{outcome.result} bytes went out during the call"
    assert len(outcome.stdout.encode()) <= limits.output_bytes + 200


async def test_an_exception_quoting_big_data_arrives_shortened(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """A KeyError on a 2 MB key is the package's KeyError (for reflexion to fix), not a frame
    too big for the channel."""
    code = "page = 'x' * 2_000_000\nresult = {}[page + 'END']\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.error_type == "KeyError", outcome.error
    error = outcome.error or ""
    assert error.startswith("'xxx") and error.endswith("END'")
    assert "characters in all, shortened" in error
    assert len(error) <= TEXT_FIELD_CHARS
    assert 'File "<package>", line 2' in (outcome.traceback or "")
