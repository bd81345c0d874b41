"""The bubblewrap backend: a throw-away set of namespaces per attempt, no daemon.

Root filesystem: the sandbox rootfs (the Docker image's contents, extracted by
``make sandbox-image`` to :data:`sandbox.image.DEFAULT_ROOTFS`) bound read-only as ``/``; when
it is missing, the host's ``/usr`` read-only (Debian's ``/usr/bin/python3``, standard library
only; ``/usr/local`` hidden, no ``/etc``, no home, no project directory).

Isolation: ``--unshare-all`` (user, pid, net, ipc, uts, cgroup), ``--disable-userns``,
``--die-with-parent``, ``--new-session``, cleared environment, a size-limited tmpfs at
``/scratch`` (the only writable place), ``--cap-drop ALL``. When dagbot runs as root, bwrap is
started as uid/gid 65534 so that nothing in the sandbox maps to root outside.

Limits: wall time from the host (SIGKILL to bwrap, which takes the whole pid namespace with it);
memory, processes, CPU seconds, file size and open files as rlimits that the runner sets on
itself before the package code runs (the process limit must be set inside the new user
namespace to count only this sandbox's processes). The memory limit is per process
(``RLIMIT_AS``); for a hard limit on the sandbox as a whole, use the docker backend (cgroups).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from agent.ports import SandboxLimits, SandboxResult, ToolGateway
from sandbox.backends import RUNNER_COMMAND, SANDBOX_ENV
from sandbox.bridge import ToolBridge
from sandbox.image import DEFAULT_ROOTFS, SANDBOX_PYTHON, SANDBOX_UID, SCRATCH
from sandbox.protocol import ProtocolViolation, Session

EXIT_GRACE_SECONDS = 2.0


def bwrap_rlimits(limits: SandboxLimits, scratch_bytes: int) -> dict[str, int | None]:
    return {
        "as": limits.memory_mb << 20,
        "nproc": limits.pids,
        "cpu": math.ceil(limits.wall_seconds * max(limits.cpus, 1.0)) + 1,
        "fsize": scratch_bytes,
        "nofile": 256,
        "core": 0,
    }


class BwrapSandbox:
    """Runs each package attempt under ``bwrap``."""

    name = "bwrap"

    def __init__(
        self, *, rootfs: str | Path | None = DEFAULT_ROOTFS, bwrap: str | None = None,
        scratch_mb: int = 64,
    ) -> None:
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        root = Path(rootfs) if rootfs else None
        self.rootfs = root if root and (root / SANDBOX_PYTHON.lstrip("/")).exists() else None
        self.scratch_mb = scratch_mb

    @property
    def mode(self) -> str:
        return "rootfs" if self.rootfs else "host"

    def problem(self) -> str | None:
        """Why this backend cannot run here, or None (checked cheaply, no sandbox started)."""
        if not shutil.which(self.bwrap):
            return "bubblewrap is not installed (apt-get install bubblewrap)"
        if self.rootfs is None and not Path(SANDBOX_PYTHON).exists():
            return f"neither the sandbox rootfs nor {SANDBOX_PYTHON} exists"
        return None

    def probe(self) -> str | None:
        """Start an empty sandbox; return bwrap's complaint if it cannot."""
        problem = self.problem()
        if problem:
            return problem
        argv = self.argv(1 << 20, command=[SANDBOX_PYTHON, "-c", ""])
        try:
            done = subprocess.run(
                argv, capture_output=True, timeout=10, env={"PATH": "/usr/bin:/bin"},
                check=False, **self._credentials(),
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap cannot start: {exc}"
        if done.returncode != 0:
            return f"bubblewrap cannot start a sandbox: {done.stderr.decode(errors='replace')}"
        return None

    def argv(self, scratch_bytes: int, command: list[str] = RUNNER_COMMAND) -> list[str]:
        argv = [
            self.bwrap, "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--clearenv",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--cap-drop", "ALL",
        ]
        for key, value in SANDBOX_ENV.items():
            argv += ["--setenv", key, value]
        argv += self._root_binds()
        argv += [
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
            "--size", str(scratch_bytes), "--perms", "0700", "--tmpfs", SCRATCH,
            "--remount-ro", "/", "--chdir", SCRATCH,
        ]
        return argv + command

    def _root_binds(self) -> list[str]:
        if self.rootfs is not None:
            return ["--ro-bind", str(self.rootfs), "/"]
        binds = ["--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local", "--remount-ro", "/usr/local"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / name
            if path.is_symlink():
                binds += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                binds += ["--ro-bind", str(path), str(path)]
        return binds

    @staticmethod
    def _credentials() -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        return {"user": SANDBOX_UID, "group": SANDBOX_UID, "extra_groups": []}

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult:
        session = Session(code, inputs, ToolBridge(tools, limits), limits)
        scratch_bytes = (self.scratch_mb << 20) + 2 * session.input_file_bytes
        session.rlimits = bwrap_rlimits(limits, scratch_bytes)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(scratch_bytes), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env={"PATH": "/usr/bin:/bin"}, start_new_session=True, **self._credentials(),
            )
        except OSError as exc:
            return session.result(backend_error=f"cannot start bubblewrap ({self.bwrap}): {exc}")
        assert proc.stdin and proc.stdout and proc.stderr
        stdin = proc.stdin

        async def send(data: bytes) -> None:
            stdin.write(data)
            await stdin.drain()

        stderr_task = asyncio.create_task(session.drain_stderr(proc.stderr))
        timed_out, violation = False, None
        try:
            async with asyncio.timeout(limits.wall_seconds):
                await session.converse(proc.stdout, send)
                if session.done is not None:  # the runner exits right after 'done'
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(proc.wait(), EXIT_GRACE_SECONDS)
        except TimeoutError:
            timed_out = True
        except ProtocolViolation as exc:
            violation = str(exc)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sandbox went away; its exit code tells why
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        exit_code = await proc.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stderr_task, EXIT_GRACE_SECONDS)
        stderr_task.cancel()
        return session.result(timed_out=timed_out, exit_code=exit_code, violation=violation)
