"""A dagbot process that runs one long package and is SIGKILLed from outside while it runs.

Usage: python -m bench.dying_dagbot docker|bwrap PACKAGE [WALL_SECONDS]

The package (one of :data:`PACKAGES`) tells the host it is running (a tool call, answered: the
runner is back in package code, not reading its channel) and then never ends by itself. This
process prints ``RUNNING`` when that call arrives, followed under docker by the ids of its
containers, and then only waits. :func:`start` and :func:`kill_and_watch` are the other side
(tests/sandbox/test_orphans.py, bench/sandbox.py): start it, kill it, see how its container
ends.
"""

from __future__ import annotations

import asyncio
import functools
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.api import APIClient

from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.backends import process_identity
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import LABEL, OWNER_LABEL, DockerSandbox

PROJECT = Path(__file__).resolve().parents[1]
READY = "RUNNING"
ANNOUNCE_AFTER_SECONDS = 0.2
PACKAGES = {
    "sleeps": "import time\ntools.ready()\ntime.sleep(3600)\n",
    # one C call that never checks for other threads: it holds the GIL throughout
    "computes": "tools.ready()\nresult = sum(range(10**15))\n",
    # the package may do anything in its sandbox, killing the runner's watcher too: only the
    # deadline inside the container is left to stop it
    "kills-the-watcher": (
        "import os, signal, time\n"
        "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if pid not in (1, os.getpid()):\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError:\n"
        "            pass\n"
        "tools.ready()\ntime.sleep(3600)\n"
    ),
}


class AnnouncesReady:
    """The tool gateway: says on stdout that the package is running, then answers."""

    def __init__(self, backend: Sandbox) -> None:
        self.backend = backend

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        # only once the reply has left: killed while the runner waits for it, the runner would
        # read the end of its channel and stop by itself, and there would be nothing to watch
        announcement = " ".join([READY, *self.containers()])
        asyncio.get_running_loop().call_later(
            ANNOUNCE_AFTER_SECONDS, functools.partial(print, announcement, flush=True))
        return "ok"

    def containers(self) -> list[str]:
        if not isinstance(self.backend, DockerSandbox):
            return []
        mine = process_identity()
        found = self.backend.client.api.containers(filters={"label": LABEL})
        return [c["Id"] for c in found if (c.get("Labels") or {}).get(OWNER_LABEL) == mine]


async def main(backend_name: str, package: str, wall_seconds: float) -> None:
    backend: Sandbox = DockerSandbox() if backend_name == "docker" else BwrapSandbox()
    outcome = await backend.run(PACKAGES[package], {}, AnnouncesReady(backend),
                                SandboxLimits(wall_seconds=wall_seconds))
    print(f"NOT KILLED: {outcome}", flush=True)  # the caller missed its moment


def start(
    backend: str, package: str, wall_seconds: float = 30.0,
) -> tuple[subprocess.Popen[str], list[str]]:
    """A dying dagbot whose package runs now, and (docker) its containers' ids."""
    dagbot = subprocess.Popen(
        [sys.executable, "-m", "bench.dying_dagbot", backend, package, str(wall_seconds)],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert dagbot.stdout is not None
    ready, *containers = dagbot.stdout.readline().split() or [""]
    if ready != READY:
        dagbot.kill()
        _, err = dagbot.communicate()
        raise RuntimeError(f"the dying dagbot did not run its package: {err[-2000:]}")
    return dagbot, containers


@dataclass(frozen=True)
class ContainerEnd:
    """How the container of a killed dagbot ended, as the engine's events tell it."""

    after_s: float | None
    """Seconds from the SIGKILL to the container's ``die``; None: it still ran at the deadline."""
    killed_from_outside: bool
    """An API ``kill`` came first: another dagbot process reaped it (they reap at start-up), so
    it did not stop by itself."""
    exit_code: int | None = None


def kill_and_watch(
    dagbot: subprocess.Popen[str], container: str, api: APIClient, seconds: float,
) -> ContainerEnd:
    """SIGKILL ``dagbot`` and wait at most ``seconds`` for ``container`` to stop."""
    killed = time.time()
    dagbot.kill()
    dagbot.communicate()
    # the engine's own timestamps: exact however late this process looks, and the events of a
    # container another process removed meanwhile are still there
    events = api.events(since=int(killed) - 1, until=math.ceil(killed + seconds), decode=True,
                        filters={"container": container, "event": ["kill", "die"]})
    outside = False
    try:
        for event in events:
            if event["Action"] == "kill":
                outside = True
            elif event["Action"] == "die":
                code = event["Actor"]["Attributes"].get("exitCode")
                return ContainerEnd(event["timeNano"] / 1e9 - killed, outside,
                                    int(code) if code is not None else None)
    finally:
        events.close()
    return ContainerEnd(None, outside)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 30.0))
