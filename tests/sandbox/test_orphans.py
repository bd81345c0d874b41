"""When dagbot dies mid-run (SIGKILL: no cleanup code runs), the sandbox still ends, and the
next dagbot process removes what is left. Docker also keeps nothing of the output on disk."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from agent.sandbox_ports import SandboxLimits
from sandbox import make_sandbox
from sandbox.backends import process_identity
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.cgroup import detect
from sandbox.backends.docker import DEADLINE_LABEL, LABEL, OWNER_LABEL, DockerSandbox, is_orphan
from tests.sandbox.conftest import usable_backend
from tests.sandbox.test_lifecycle import eventually, runner_processes

PROJECT = Path(__file__).resolve().parents[2]

DYING_DAGBOT = """
import asyncio, os, signal, sys
from agent.sandbox_ports import SandboxLimits
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox

class DieOnFirstCall:
    async def call(self, name, args):
        print("RUNNING", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

# the call is written by hand so that nothing waits for the reply (a runner reading its
# channel would see the end of stdin when dagbot dies and stop by itself): only a deadline
# inside the sandbox can stop this one
CODE = '''
import json, os, struct
call = json.dumps({'t': 'call', 'id': 1, 'name': 'ready', 'args': {}}).encode()
os.write(4, struct.pack('>I', len(call)) + call)
while True:
    pass
'''
backend = DockerSandbox() if sys.argv[1] == "docker" else BwrapSandbox()
limits = SandboxLimits(wall_seconds=float(sys.argv[2]))
asyncio.run(backend.run(CODE, {}, DieOnFirstCall(), limits))
"""


def kill_dagbot_mid_run(backend: str, wall_seconds: float) -> int:
    """Run a package in a child dagbot process that is SIGKILLed while the package runs;
    the child's pid."""
    child = subprocess.Popen(
        [sys.executable, "-c", DYING_DAGBOT, backend, str(wall_seconds)], cwd=PROJECT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    out, err = child.communicate(timeout=120)
    assert child.returncode == -9 and "RUNNING" in out, err
    return child.pid


def containers_of(pid: int) -> list[dict[str, Any]]:
    client = docker.from_env(version="auto")
    owner = f"{socket.gethostname()}/{pid}/"
    return [client.api.inspect_container(c["Id"])
            for c in client.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL, "").startswith(owner)]


async def wait_until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return True
        await asyncio.sleep(0.2)
    return False


@pytest.mark.docker
async def test_a_container_outlives_a_killed_dagbot_only_until_its_deadline() -> None:
    engine = usable_backend("docker")
    assert isinstance(engine, DockerSandbox)
    pid = kill_dagbot_mid_run("docker", wall_seconds=2)
    left = containers_of(pid)
    assert len(left) == 1, "the dead process's container should still be there"
    # the in-container timeout (wall time + grace) kills the runner without any host help
    assert await wait_until(lambda: not containers_of(pid)[0]["State"]["Running"], 30)
    assert containers_of(pid)[0]["State"]["ExitCode"] == 137
    # the next dagbot process removes it at start-up
    assert DockerSandbox().reap_orphans() >= 1
    assert containers_of(pid) == []


@pytest.mark.docker
async def test_start_up_removes_only_orphans() -> None:
    usable_backend("docker")
    client = docker.from_env(version="auto")
    dead = subprocess.Popen(["true"])
    dead.wait()
    future = str(int(time.time()) + 600)
    made = {}
    for name, owner in (("dead", f"{socket.gethostname()}/{dead.pid}/1"),
                        ("alive", process_identity() or "")):
        made[name] = client.api.create_container(
            "dagbot-sandbox:1", command=["sleep", "600"],
            labels={LABEL: "1", OWNER_LABEL: owner, DEADLINE_LABEL: future},
        )["Id"]
    try:
        assert make_sandbox("docker").name == "docker"  # start-up: probes, then reaps
        remaining = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}
        assert made["dead"] not in remaining
        assert made["alive"] in remaining
    finally:
        for container in made.values():
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(container, force=True)


def test_which_containers_are_orphans() -> None:
    now = time.time()
    mine = process_identity()
    assert mine is not None
    later = str(int(now) + 100)
    assert not is_orphan({OWNER_LABEL: mine, DEADLINE_LABEL: later}, now)
    assert is_orphan({OWNER_LABEL: mine.rsplit("/", 1)[0] + "/1", DEADLINE_LABEL: later}, now)
    assert is_orphan({OWNER_LABEL: mine, DEADLINE_LABEL: str(int(now) - 3600)}, now)
    assert not is_orphan({OWNER_LABEL: "elsewhere/1/1", DEADLINE_LABEL: later}, now)
    assert is_orphan({LABEL: "1"}, now)  # no deadline: nothing says it is still wanted


@pytest.mark.docker
async def test_docker_keeps_no_output_on_the_host_disk() -> None:
    engine = usable_backend("docker")
    seen: list[tuple[str, str]] = []

    class Inspector:
        async def call(self, name: str, args: dict[str, Any]) -> str:
            client = docker.from_env(version="auto")
            for container in client.api.containers(filters={"label": LABEL}):
                info = client.api.inspect_container(container["Id"])
                seen.append((info["HostConfig"]["LogConfig"]["Type"], info.get("LogPath") or ""))
            return "looked"

    code = "import sys\nsys.stderr.write('e' * 5_000_000)\nsys.stderr.flush()\ntools.look()\nresult = 1"
    outcome = await engine.run(code, {}, Inspector(), SandboxLimits(wall_seconds=20))
    assert outcome.ok, outcome
    assert seen and all(kind == "none" for kind, _ in seen), seen
    assert all(not path or not Path(path).exists() for _, path in seen), seen


@pytest.mark.bwrap
async def test_a_bwrap_sandbox_dies_with_dagbot_and_its_cgroup_is_removed_at_start_up() -> None:
    usable_backend("bwrap")
    before = runner_processes()
    pid = kill_dagbot_mid_run("bwrap", wall_seconds=60)
    assert await eventually(lambda: not (runner_processes() - before)), "a runner survived"
    tree, _ = detect()
    assert tree is not None
    assert BwrapSandbox().probe() is None  # start-up
    assert [p for base in tree.bases.values() for p in base.glob(f"run-{pid}-*")] == []
