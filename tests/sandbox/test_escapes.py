"""Escapes and abuse: each one is contained and reported with a clear error, on every backend."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.backends import SANDBOX_ENV
from tests.sandbox.conftest import LocalServer

PROJECT = Path(__file__).resolve().parents[2]


async def test_a_trivial_package_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "print('hello'); result = {'sum': inputs['a'] + inputs['b']}"
    outcome = await sandbox.run(code, {"a": 2, "b": 3}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == {"sum": 5}
    assert outcome.stdout == "hello\n"


async def test_network_connection_fails(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits,
    http_server: LocalServer,
) -> None:
    before = len(http_server.requests)
    code = (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {http_server.port}), timeout=3)\n"
        "result = 'connected'\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type in ("ConnectionRefusedError", "OSError")
    assert "no network" in (outcome.error or "")
    assert len(http_server.requests) == before


async def test_writing_outside_scratch_fails(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = (
        "import os\n"
        "open('/scratch/ok.txt', 'w').write('scratch is writable')\n"
        "written = {}\n"
        "for path in ('/etc/evil', '/usr/evil', '/tmp/evil', '/evil', '/dev/evil'):\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        written[path] = True\n"
        "    except OSError:\n"
        "        written[path] = False\n"
        "assert not any(written.values()), written\n"
        "open('/usr/evil', 'w')\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "OSError", outcome
    assert "Read-only file system" in (outcome.error or "")
    assert "only under /scratch" in (outcome.error or "")


async def test_host_environment_does_not_reach_the_script(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAGBOT_TEST_SECRET", "hunter2-do-not-leak")
    code = "import os\nresult = dict(os.environ)"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    env = outcome.result
    assert "DAGBOT_TEST_SECRET" not in env
    assert "hunter2-do-not-leak" not in str(env)
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "LANG", "MALLOC_ARENA_MAX", "HOSTNAME",
                        "PWD", "LC_CTYPE"}


async def test_project_directory_and_host_files_are_invisible(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits, tmp_path: Path
) -> None:
    marker = tmp_path / "host-secret.txt"
    marker.write_text("host only")
    paths = [str(PROJECT), str(PROJECT / "pyproject.toml"), str(PROJECT / ".venv"), str(marker),
             str(Path.home() / ".pyenv"), "/var/lib/dagbot", "/var/run/docker.sock"]
    code = f"import os\nresult = {{p: os.path.exists(p) for p in {paths!r}}}"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == {p: False for p in paths}


async def test_reading_etc_shadow_fails(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    outcome = await sandbox.run("result = open('/etc/shadow').read()", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type in ("PermissionError", "FileNotFoundError")
    assert outcome.result is None


async def test_host_processes_are_invisible(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "import os\nresult = [p for p in os.listdir('/proc') if p.isdigit()]"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert len(outcome.result) <= 4  # init, the runner, maybe bwrap's reaper


async def test_memory_hog_is_stopped(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "MemoryLimitExceeded"
    assert f"{limits.memory_mb} MB" in (outcome.error or "")


async def test_fork_bomb_is_contained(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "import os\nwhile True:\n    os.fork()\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type in ("BlockingIOError", "TimeLimitExceeded", "MemoryLimitExceeded")
    if outcome.error_type == "BlockingIOError":
        assert f"at most {limits.pids} processes" in (outcome.error or "")
    after = await sandbox.run("result = 'still fine'", {}, gateway, limits)
    assert after.ok and after.result == "still fine"


async def test_infinite_loop_hits_the_wall_time(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    short = replace(limits, wall_seconds=2)
    outcome = await sandbox.run("while True:\n    pass\n", {}, gateway, short)
    assert not outcome.ok
    assert outcome.error_type == "TimeLimitExceeded"
    assert "2 s wall-time limit" in (outcome.error or "")


async def test_stdout_flood_is_capped(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = (
        "import sys\n"
        "chunk = 'x' * 1_000_000\n"
        "for _ in range(100):\n"
        "    sys.stdout.write(chunk)\n"
        "print('THE END')\n"
        "result = 'flooded'\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == "flooded"
    assert "[truncated" in outcome.stdout
    assert len(outcome.stdout.encode()) <= limits.output_bytes + 200
    assert outcome.stdout.rstrip().endswith("THE END")


async def test_stderr_flood_is_capped(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "import sys\nsys.stderr.write('e' * 5_000_000)\nresult = 1"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert "[truncated" in outcome.stderr
    assert len(outcome.stderr.encode()) <= limits.output_bytes + 200


async def test_large_result_is_capped(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    outcome = await sandbox.run("result = 'y' * 1_000_000", {}, gateway, limits)
    assert outcome.ok, outcome
    assert isinstance(outcome.result, str)
    assert "[truncated" in outcome.result
    assert len(outcome.result.encode()) <= limits.output_bytes + 200


async def test_non_json_result_is_refused(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    outcome = await sandbox.run("result = {1, 2, 3}", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "ResultNotSerializable"
    assert "JSON-serialisable" in (outcome.error or "") and "set" in (outcome.error or "")


async def test_traceback_shows_the_package_lines(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "import sys\nprint('about to fail', file=sys.stderr)\nx = 1\ny = x / 0\n"
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "ZeroDivisionError"
    assert 'File "<package>", line 4' in (outcome.traceback or "")
    assert "y = x / 0" in (outcome.traceback or "")
    assert "runner" not in (outcome.traceback or "")
    assert "about to fail" in outcome.stderr


async def test_exit_codes(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    ok = await sandbox.run("import sys\nresult = 7\nsys.exit(0)", {}, gateway, limits)
    assert ok.ok and ok.result == 7
    bad = await sandbox.run("import sys\nsys.exit(3)", {}, gateway, limits)
    assert not bad.ok and bad.error_type == "SystemExit" and "exit(3)" in (bad.error or "")
    hard = await sandbox.run("import os\nos._exit(5)", {}, gateway, limits)
    assert not hard.ok and hard.error_type == "SandboxCrashed" and "exit code" in (hard.error or "")


async def test_runs_as_an_unprivileged_user(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = (
        "import os\n"
        "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
        "nnp = [l for l in open('/proc/self/status') if l.startswith('NoNewPrivs')][0].split()[1]\n"
        "result = {'uid': os.getuid(), 'euid': os.geteuid(), 'caps': caps, 'nnp': nnp}\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == {"uid": 65534, "euid": 65534, "caps": "0000000000000000", "nnp": "1"}


async def test_the_sandbox_init_process_holds_only_the_sandbox_environment(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """Whatever started the sandbox (bwrap, the shell joining its cgroup) shows its
    environment in /proc/1/environ: it must be the fixed sandbox environment, nothing more."""
    code = (
        "import os\n"
        "seen = {}\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    try:\n"
        "        raw = open(f'/proc/{pid}/environ', 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    seen[pid] = dict(v.decode().split('=', 1) for v in raw.split(b'\\0') if v)\n"
        "result = seen\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result, "no process environment was readable"
    # besides: docker's HOSTNAME (the name every backend gives), and the PWD bwrap sets for
    # the runner after its --chdir; the host's working directory must not show anywhere
    allowed = SANDBOX_ENV | {"HOSTNAME": "sandbox", "PWD": "/scratch"}
    for pid, env in outcome.result.items():
        assert set(env) <= set(allowed), (pid, env)
        assert all(allowed[key] == value for key, value in env.items()), (pid, env)
