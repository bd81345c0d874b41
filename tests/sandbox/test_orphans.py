"""When dagbot dies mid-run (SIGKILL: no cleanup code runs), the sandbox still ends within
moments (docker: the runner's watcher sees the container's stdin close; bubblewrap: it dies with
its parent), at the latest by the deadline inside the container, and the next dagbot process
removes what is left. Docker also keeps nothing of the output on disk."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from agent.ports.sandbox import SandboxLimits
from bench import dying_dagbot
from sandbox.backends import process_identity
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.cgroup import detect
from sandbox.backends.docker import (
    DEADLINE_LABEL,
    INSIDE_GRACE_SECONDS,
    LABEL,
    OWNER_LABEL,
    DockerSandbox,
    is_orphan,
)
from sandbox.factory import make_sandbox
from tests.sandbox.conftest import usable_backend
from tests.sandbox.test_lifecycle import eventually, runner_processes

# It counts the machine's sandbox runners and containers: make test runs it alone, after the
# parallel tests, so no other test's sandbox is counted.
pytestmark = pytest.mark.serial

ORPHAN_WAIT_SECONDS = 5.0
"""How long a dead dagbot's container may run on (the aim is 2 s; bubblewrap's sandbox goes at
once): far below the in-container deadline of 35 s that stopped it before."""


def exists(api: Any, container: str) -> bool:
    try:
        api.inspect_container(container)
    except docker.errors.NotFound:
        return False
    return True


def running(api: Any, container: str) -> bool:
    try:
        return bool(api.inspect_container(container)["State"]["Running"])
    except docker.errors.NotFound:
        return False


def stopped_by_itself(end: dying_dagbot.ContainerEnd) -> bool:
    """Whether the container ended on its own; skips when another process (a dagbot starting up
    on this machine, reaping orphans) killed it first, which leaves nothing to judge."""
    if end.killed_from_outside:
        pytest.skip("another dagbot process reaped the container before it stopped by itself")
    return end.after_s is not None


@pytest.mark.docker
@pytest.mark.parametrize("package", ["sleeps", "computes"])
async def test_a_container_stops_within_moments_of_its_dagbots_death(package: str) -> None:
    engine = usable_backend("docker")
    assert isinstance(engine, DockerSandbox)
    api = engine.client.api
    dagbot, containers = await asyncio.to_thread(dying_dagbot.start, "docker", package)
    assert len(containers) == 1
    try:
        end = await asyncio.to_thread(
            dying_dagbot.kill_and_watch, dagbot, containers[0], api, ORPHAN_WAIT_SECONDS)
        print(f"\n{package}: the container stopped {end.after_s} s after its dagbot's SIGKILL")
        assert stopped_by_itself(end), f"still running {ORPHAN_WAIT_SECONDS} s after the SIGKILL"
        assert not running(api, containers[0])
        engine.reap_orphans()  # the next dagbot's start-up removes what is left
        assert not exists(api, containers[0])
    finally:
        with contextlib.suppress(docker.errors.APIError):
            api.remove_container(containers[0], force=True)


@pytest.mark.docker
async def test_a_package_that_kills_the_watcher_is_still_stopped_by_its_deadline() -> None:
    engine = usable_backend("docker")
    assert isinstance(engine, DockerSandbox)
    api = engine.client.api
    dagbot, containers = await asyncio.to_thread(
        dying_dagbot.start, "docker", "kills-the-watcher", 2)
    try:
        # the in-container timeout (wall time + grace) kills the runner without any host help
        deadline = 2 + INSIDE_GRACE_SECONDS + 20
        end = await asyncio.to_thread(
            dying_dagbot.kill_and_watch, dagbot, containers[0], api, deadline)
        assert stopped_by_itself(end), f"still running {deadline} s after the SIGKILL"
        assert end.exit_code == 137  # timeout -s KILL
        engine.reap_orphans()  # the next dagbot's start-up removes what is left
        assert not exists(api, containers[0])
    finally:
        with contextlib.suppress(docker.errors.APIError):
            api.remove_container(containers[0], force=True)


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


@pytest.mark.docker
@pytest.mark.parametrize("next_backend", ["auto", "bwrap"])
async def test_the_next_start_removes_the_container_of_a_dagbot_killed_mid_package(next_backend: str) -> None:
    """SIGKILLed mid-package, dagbot leaves its stopped container behind (nothing of it runs
    to remove it); the next dagbot's start-up removes it by its label, whichever backend that
    one runs packages in (a Docker engine that answers is asked in any case)."""
    engine = usable_backend("docker")
    if next_backend == "bwrap":
        usable_backend("bwrap")
    assert isinstance(engine, DockerSandbox)
    api = engine.client.api
    dagbot, containers = await asyncio.to_thread(dying_dagbot.start, "docker", "sleeps")
    try:
        dagbot.kill()
        await asyncio.to_thread(dagbot.communicate)
        assert exists(api, containers[0])  # left behind
        assert api.inspect_container(containers[0])["Config"]["Labels"][LABEL] == "1"
        assert make_sandbox(next_backend).name == ("bwrap" if next_backend == "bwrap" else "docker")  # start-up
        assert not exists(api, containers[0])
    finally:
        with contextlib.suppress(docker.errors.APIError):
            api.remove_container(containers[0], force=True)


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
    dagbot, _ = await asyncio.to_thread(dying_dagbot.start, "bwrap", "sleeps", 60)
    dagbot.kill()
    dagbot.communicate()
    pid = dagbot.pid
    assert await eventually(lambda: not (runner_processes() - before)), "a runner survived"
    tree, _ = detect()
    assert tree is not None
    assert BwrapSandbox().probe() is None  # start-up
    assert [p for base in tree.bases.values() for p in base.glob(f"run-{pid}-*")] == []
