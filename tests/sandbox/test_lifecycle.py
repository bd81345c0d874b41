"""Sandboxes are independent of each other and leave nothing behind."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.backends import RUNNER_SOURCE
from sandbox.backends.docker import LABEL, DockerSandbox

# It counts the machine's sandbox runners and containers: make test runs it alone, after the
# parallel tests, so no other test's sandbox is counted.
pytestmark = pytest.mark.serial

RUNNER_MARK = RUNNER_SOURCE.splitlines()[0]


def runner_processes() -> set[int]:
    """Host pids of sandboxed runners (their command line carries the runner's source)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if RUNNER_MARK in cmdline:
            found.add(int(entry.name))
    return found


def labelled_containers() -> list[str]:
    client = docker.from_env(version="auto")
    # sparse: no inspect of each container, which a container removed meanwhile answers 404
    return [c.id for c in client.containers.list(all=True, sparse=True, filters={"label": LABEL})]


async def eventually(check: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_parallel_runs_are_isolated(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    bomb = sandbox.run("import os\nwhile True:\n    os.fork()\n", {}, gateway, limits)
    honest = [
        sandbox.run(
            "import os, subprocess\n"
            "open('/scratch/mine', 'w').write(str(inputs['n']))\n"
            "kids = [os.fork() for _ in range(3)]\n"
            "if 0 in kids: os._exit(0)\n"
            "for _ in kids: os.wait()\n"
            "result = [inputs['n'], open('/scratch/mine').read(), os.listdir('/scratch')]\n",
            {"n": n}, gateway, limits,
        )
        for n in range(4)
    ]
    outcomes = await asyncio.gather(bomb, *honest)
    assert not outcomes[0].ok
    for n, outcome in enumerate(outcomes[1:]):
        assert outcome.ok, outcome
        assert outcome.result == [n, str(n), ["mine"]]


async def test_cancelling_a_run_kills_the_sandbox(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    before = runner_processes()
    task = asyncio.create_task(
        sandbox.run("while True:\n    pass\n", {}, gateway, replace(limits, wall_seconds=60))
    )
    assert await eventually(lambda: runner_processes() - before, 10), "the sandbox never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await eventually(lambda: not (runner_processes() - before)), "a runner survived"
    if isinstance(sandbox, DockerSandbox):
        assert await eventually(lambda: not labelled_containers()), "a container survived"


async def test_no_container_is_left_after_a_timeout(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    before = runner_processes()
    outcome = await sandbox.run("while True:\n    pass\n", {}, gateway,
                                replace(limits, wall_seconds=1))
    assert outcome.error_type == "TimeLimitExceeded"
    assert await eventually(lambda: not (runner_processes() - before)), "a runner survived"
    if isinstance(sandbox, DockerSandbox):
        assert labelled_containers() == []  # removed before run() returned


async def test_what_a_package_printed_before_its_time_ran_out_is_kept(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = "print('fetched 3 pages')\nprint('now sorting', flush=False)\nwhile True:\n    pass\n"
    outcome = await sandbox.run(code, {}, gateway, replace(limits, wall_seconds=1))
    assert outcome.error_type == "TimeLimitExceeded"
    assert outcome.stdout == "fetched 3 pages\nnow sorting\n"  # (what reflexion is shown)
