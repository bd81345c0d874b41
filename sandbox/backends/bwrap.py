"""The bubblewrap backend: a throw-away set of namespaces per attempt, no daemon.

Root filesystem: the sandbox rootfs (the Docker image's contents, extracted by
``make sandbox-image`` to :data:`sandbox.image.DEFAULT_ROOTFS`) bound read-only as ``/``; when
it is missing, the host's ``/usr`` read-only (Debian's ``/usr/bin/python3``, standard library
only; ``/usr/local`` hidden, no ``/etc``, no home, no project directory).

Isolation: ``--unshare-all`` (user, pid, net, ipc, uts, cgroup), ``--disable-userns``,
``--die-with-parent``, ``--new-session``, cleared environment, a size-limited tmpfs at
``/scratch`` (the only writable place), ``--cap-drop ALL``, and a seccomp filter denying what
Docker's default profile denies (:mod:`sandbox.backends.seccomp`). When dagbot runs as root,
bwrap is started as uid/gid 65534 (``setpriv``) so that nothing in the sandbox maps to root
outside.

Limits: a cgroup per run (:mod:`sandbox.backends.cgroup`) holds memory (no swap), processes
and CPU for the sandbox as a whole; the run's process joins it before bwrap starts. Wall time
from the host (SIGKILL to bwrap, which takes the whole pid namespace with it). On top, rlimits
the runner sets on itself before the package code runs: address space (so that a single
allocation fails as ``MemoryError`` before the cgroup's OOM killer strikes), processes (inside
the new user namespace), CPU seconds, file size and open files. Without a cgroup or a seccomp
filter this backend refuses to run packages (:meth:`BwrapSandbox.problem`): it would promise
limits that do not hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from agent.ports.sandbox import SandboxLimits, SandboxResult, ToolGateway
from sandbox.backends import RUNNER_COMMAND, SANDBOX_ENV, seccomp
from sandbox.backends.cgroup import CgroupTree, RunCgroup, detect
from sandbox.bridge import ToolBridge
from sandbox.image import DEFAULT_ROOTFS, SANDBOX_PYTHON, SANDBOX_UID, SCRATCH
from sandbox.protocol import ProtocolViolation, Session

EXIT_GRACE_SECONDS = 2.0
JOIN_CGROUPS = ('unset PWD; while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; '
                'shift; exec "$@"')
"""``sh -c`` script: write our pid into each cgroup.procs given before ``--``, then exec the
rest; everything bwrap starts is then counted from its first instruction. The shell's PWD is
unset: bwrap's environment is visible in the sandbox (``/proc/1/environ``)."""
DETECT: Any = object()
REAP_SECONDS = 5.0
"""How long a killed sandbox may take to be gone before the run is reported anyway."""


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
        scratch_mb: int = 64, cgroups: CgroupTree | None = DETECT,
    ) -> None:
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        root = Path(rootfs) if rootfs else None
        self.rootfs = root if root and (root / SANDBOX_PYTHON.lstrip("/")).exists() else None
        self.scratch_mb = scratch_mb
        if cgroups is DETECT:
            self.cgroups, self.cgroup_problem = detect()
        else:
            self.cgroups, self.cgroup_problem = cgroups, None if cgroups else "none given"

    @property
    def mode(self) -> str:
        return "rootfs" if self.rootfs else "host"

    def problem(self) -> str | None:
        """Why this backend cannot run here, or None (checked cheaply, no sandbox started)."""
        if not shutil.which(self.bwrap):
            return "bubblewrap is not installed (apt-get install bubblewrap)"
        if self.rootfs is None and not Path(SANDBOX_PYTHON).exists():
            return f"neither the sandbox rootfs nor {SANDBOX_PYTHON} exists"
        if self.cgroups is None:
            return (f"no cgroup can be made for a sandbox run ({self.cgroup_problem}), so memory, "
                    "process and CPU limits would hold per process only; run dagbot as root "
                    "(or in a delegated cgroup sub-tree) on a machine with the memory, pids and "
                    "cpu controllers, or use SANDBOX_BACKEND=docker")
        if os.geteuid() == 0 and not shutil.which("setpriv"):
            return "setpriv is missing (apt-get install util-linux)"
        return seccomp.problem()

    def probe(self) -> str | None:
        """Start an empty sandbox in a run cgroup; return the complaint if it cannot. Also
        removes the run cgroups a dead dagbot process left behind."""
        problem = self.problem()
        if problem or self.cgroups is None:
            return problem
        self.cgroups.reap()
        try:
            run = self.cgroups.create(SandboxLimits())
        except OSError as exc:
            return f"cannot create a cgroup for a sandbox run: {exc}"
        program = seccomp.program_fd()
        try:
            done = subprocess.run(
                self.command(run, 1 << 20, program, [SANDBOX_PYTHON, "-c", ""]),
                capture_output=True, timeout=10, env={"PATH": "/usr/bin:/bin"}, check=False,
                pass_fds=(program,),
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap cannot start: {exc}"
        finally:
            os.close(program)
            for _ in range(50):
                if run.try_remove():
                    break
                time.sleep(0.01)  # the sandbox's last processes are still leaving
        if done.returncode != 0:
            return f"bubblewrap cannot start a sandbox: {done.stderr.decode(errors='replace')}"
        return None

    def command(
        self, run: RunCgroup, scratch_bytes: int, seccomp_fd: int,
        command: list[str] = RUNNER_COMMAND,
    ) -> list[str]:
        """The whole command line: join the run's cgroups, drop root, bwrap, the runner."""
        drop = []
        if os.geteuid() == 0:
            drop = [shutil.which("setpriv") or "setpriv", f"--reuid={SANDBOX_UID}",
                    f"--regid={SANDBOX_UID}", "--clear-groups"]
        return ["/bin/sh", "-c", JOIN_CGROUPS, "sh", *run.procs_files, "--", *drop,
                *self.argv(scratch_bytes, ["--seccomp", str(seccomp_fd), *command])]

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

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult:
        session = Session(code, inputs, ToolBridge(tools, limits), limits)
        scratch_bytes = (self.scratch_mb << 20) + 2 * session.input_file_bytes
        session.rlimits = bwrap_rlimits(limits, scratch_bytes)
        if self.cgroups is None:
            return session.result(backend_error=self.problem())
        try:
            run = self.cgroups.create(limits)
        except OSError as exc:
            return session.result(backend_error=f"cannot create the run's cgroup: {exc}")
        try:
            return await self._run(session, run, scratch_bytes, limits)
        finally:
            await asyncio.shield(run.remove())

    async def _run(
        self, session: Session, run: RunCgroup, scratch_bytes: int, limits: SandboxLimits
    ) -> SandboxResult:
        try:
            program = seccomp.program_fd()
        except Exception as exc:  # libseccomp gone since start-up: never run unfiltered
            return session.result(backend_error=f"cannot build the seccomp filter: {exc}")
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command(run, scratch_bytes, program), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env=dict(SANDBOX_ENV), cwd="/", start_new_session=True, pass_fds=(program,),
            )  # bwrap's own environment shows in the sandbox: only what the package gets anyway
        except OSError as exc:
            return session.result(backend_error=f"cannot start bubblewrap ({self.bwrap}): {exc}")
        finally:
            os.close(program)
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
            run.kill_all()  # whatever else holds the pipes' write ends
        exit_code = await reap(proc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stderr_task, EXIT_GRACE_SECONDS)
        stderr_task.cancel()
        return session.result(timed_out=timed_out, exit_code=exit_code, violation=violation,
                              oom=session.done is None and run.oom_killed())


async def reap(proc: asyncio.subprocess.Process) -> int | None:
    """The exit code of the killed sandbox, waited for at most :data:`REAP_SECONDS`.

    What the sandbox wrote to stdout and the host did not read (after a protocol error, or
    when the wall time ran out during a tool call while the package kept printing) is read
    and dropped: once more than the stream's limit is buffered, asyncio pauses the pipe, and
    on Python 3.11 ``Process.wait()`` returns only when every pipe has reached its end."""
    assert proc.stdout is not None
    drain = asyncio.create_task(_discard(proc.stdout))
    try:
        async with asyncio.timeout(REAP_SECONDS):
            return await proc.wait()
    except TimeoutError:
        return proc.returncode
    finally:
        drain.cancel()


async def _discard(reader: asyncio.StreamReader) -> None:
    while await reader.read(1 << 16):
        pass
