"""The docker backend: one fresh container per attempt, always removed afterwards.

Container: image :data:`sandbox.image.DEFAULT_IMAGE`, user 65534:65534, ``network_mode=none``,
read-only root filesystem, one tmpfs at ``/scratch`` (the only writable place, also HOME and
TMPDIR), memory (no swap) / CPU / pids limits from :class:`agent.ports.sandbox.SandboxLimits`,
``cap_drop=ALL``, ``no-new-privileges``, only :data:`sandbox.backends.SANDBOX_ENV` as
environment, and log driver ``none`` (the engine stores nothing of the container's output on
the host's disk). The host attaches to stdin/stdout/stderr before the start (the channel of
:mod:`sandbox.protocol` runs over the attach stream, read with flow control by
:class:`sandbox.backends.attach.AttachStream`), enforces the wall time itself, and
force-removes the container whatever happened.

Orphans: should dagbot die (SIGKILL) mid-run, nobody removes the container. Its attach
connection closes with the process, so the engine closes the container's stdin (``StdinOnce``,
which the SDK sets for a non-detached container with ``stdin_open``), and the runner, started
with ``--watch-host``, stops within moments (:func:`sandbox.runner.watch_host`); the container
is left stopped. In case even that fails (a package can kill the watcher: it runs as the same
user), the wall time is enforced inside too: the runner runs under ``timeout -s KILL`` (the
wall time plus a grace). Every container is labelled with its owner process and deadline;
:meth:`DockerSandbox.reap_orphans` (called at every start-up by :mod:`sandbox.factory` when a
Docker engine answers, whichever backend is chosen) removes those whose owner is dead or
whose deadline has long passed.

The docker SDK is synchronous; its calls run in worker threads, and the attach socket is
handed to asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
from typing import Any

import docker
from docker.errors import DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Ulimit

from agent.ports.sandbox import SandboxLimits, SandboxResult, ToolGateway
from sandbox.backends import RUNNER_COMMAND, SANDBOX_ENV, process_identity
from sandbox.backends.attach import AttachStream
from sandbox.bridge import ToolBridge
from sandbox.image import DEFAULT_IMAGE, SANDBOX_UID, SCRATCH, SETUP_HINT
from sandbox.protocol import ProtocolViolation, Session
from sandbox.runner import WATCH_HOST

log = logging.getLogger(__name__)

LABEL = "dagbot.sandbox"
OWNER_LABEL = "dagbot.sandbox.owner"
"""``HOST/PID/START``: the dagbot process that made the container (START: its start time in
clock ticks, so a reused pid is not taken for the owner)."""
DEADLINE_LABEL = "dagbot.sandbox.deadline"
"""Unix time by which the container has ended on its own (the in-container timeout)."""
INSIDE_GRACE_SECONDS = 5
"""The in-container timeout is the wall time plus this: the host's own limit fires first."""
WATCHER_PIDS = 1
"""The runner's host watcher: not the package's to spend."""
ORPHAN_GRACE_SECONDS = 60


def is_orphan(labels: dict[str, str], now: float) -> bool:
    """Whether a labelled container was left by a dead dagbot process."""
    try:
        if now > float(labels.get(DEADLINE_LABEL, "")) + ORPHAN_GRACE_SECONDS:
            return True
    except ValueError:
        return True  # no deadline: made before owners were recorded, or not by dagbot
    owner = labels.get(OWNER_LABEL, "")
    host, _, rest = owner.partition("/")
    if host != socket.gethostname():
        return False  # another machine's process: only its deadline tells
    pid = rest.partition("/")[0]
    return not pid.isdigit() or process_identity(int(pid)) != owner


class DockerSandbox:
    """Runs each package attempt in a new container."""

    name = "docker"

    def __init__(
        self, *, image: str = DEFAULT_IMAGE, client: docker.DockerClient | None = None,
        scratch_mb: int = 64,
    ) -> None:
        self.image = image
        self.scratch_mb = scratch_mb
        self._client = client

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.from_env(version="auto", timeout=60)
        return self._client

    def answers(self) -> bool:
        """Whether a Docker engine answers here (quietly: none at all is no problem)."""
        try:
            self.client.ping()
        except Exception:  # no engine, no socket, no permission: nothing of dagbot's there to clear
            return False
        return True

    def problem(self) -> str | None:
        """Why this backend cannot run here (no engine, no image), or None."""
        try:
            self.client.ping()
        except Exception as exc:  # the SDK raises requests' and its own errors here
            return f"no Docker engine answers ({type(exc).__name__}: {exc})"
        try:
            self.client.api.inspect_image(self.image)
        except ImageNotFound:
            return f"the sandbox image {self.image} is missing; {SETUP_HINT}"
        except DockerException as exc:
            return f"cannot inspect the sandbox image {self.image}: {exc}"
        return None

    def _create(self, limits: SandboxLimits, scratch_mb: int) -> str:
        api = self.client.api
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            tmpfs={SCRATCH: f"rw,nosuid,nodev,size={scratch_mb}m,mode=1777"},
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.pids + WATCHER_PIDS,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=[
                Ulimit(name="nofile", soft=256, hard=256), Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="msgqueue", soft=0, hard=0),
            ],
            ipc_mode="none",
            log_config=LogConfig(type=LogConfig.types.NONE),
        )
        inside = math.ceil(limits.wall_seconds) + INSIDE_GRACE_SECONDS
        labels = {LABEL: "1", OWNER_LABEL: process_identity() or "",
                  DEADLINE_LABEL: str(math.ceil(time.time() + inside + 60))}
        # not detached, with stdin_open: the SDK sets StdinOnce, so the container's stdin closes
        # when our attach connection does (dagbot died), which the runner's watcher waits for
        created = api.create_container(
            self.image,
            command=["timeout", "-s", "KILL", f"{inside}s", *RUNNER_COMMAND, WATCH_HOST],
            user=f"{SANDBOX_UID}:{SANDBOX_UID}", detach=False,
            environment=dict(SANDBOX_ENV), working_dir=SCRATCH, stdin_open=True, tty=False,
            network_disabled=True, hostname="sandbox", labels=labels, host_config=host_config,
        )
        return str(created["Id"])

    def reap_orphans(self) -> int:
        """Remove sandbox containers left by dead dagbot processes; how many were removed."""
        removed = 0
        try:
            found = self.client.api.containers(all=True, filters={"label": LABEL})
        except Exception:
            log.exception("could not list sandbox containers to remove orphans")
            return 0
        now = time.time()
        for container in found:
            if is_orphan(container.get("Labels") or {}, now):
                self._remove(str(container["Id"]))
                removed += 1
        if removed:
            log.warning("removed %d sandbox container(s) left by a dead dagbot process", removed)
        return removed

    def _attach(self, container_id: str) -> socket.socket:
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        handle: Any = self.client.api.attach_socket(container_id, params=params)
        raw = getattr(handle, "_sock", handle)
        if not isinstance(raw, socket.socket):
            raise DockerException("the docker backend needs a socket-based engine connection")
        sock = socket.socket(fileno=os.dup(raw.fileno()))
        # the hijacked HTTP connection must never go back to the SDK's pool: close it (our dup
        # of the descriptor stays open)
        response = getattr(handle, "_response", None)
        for closable in (response, handle, raw):
            with contextlib.suppress(Exception):
                if closable is not None:
                    closable.close()
        return sock

    def _exit_state(self, container_id: str) -> tuple[int | None, bool]:
        api = self.client.api
        with contextlib.suppress(Exception):  # DockerException or requests' ReadTimeout
            api.wait(container_id, timeout=5)
        try:
            state = api.inspect_container(container_id)["State"]
        except Exception:
            return None, False
        return state.get("ExitCode"), bool(state.get("OOMKilled"))

    def _remove(self, container_id: str) -> None:
        try:
            self.client.api.remove_container(container_id, force=True)
        except NotFound:
            pass
        except Exception:
            log.exception("could not remove sandbox container %s", container_id[:12])

    def _remove_when_created(self, creating: asyncio.Future[str]) -> None:
        if not creating.cancelled() and creating.exception() is None:
            asyncio.get_running_loop().run_in_executor(None, self._remove, creating.result())

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult:
        session = Session(code, inputs, ToolBridge(tools, limits), limits)
        scratch_mb = self.scratch_mb + 2 * (session.input_file_bytes >> 20) + 1
        session.rlimits = {"nofile": 256, "core": 0, "fsize": scratch_mb << 20}
        creating = asyncio.ensure_future(asyncio.to_thread(self._create, limits, scratch_mb))
        try:
            container_id = await asyncio.shield(creating)
        except asyncio.CancelledError:  # remove the container once the engine has made it
            creating.add_done_callback(self._remove_when_created)
            raise
        except ImageNotFound:
            return session.result(
                backend_error=f"the sandbox image {self.image} is missing; {SETUP_HINT}"
            )
        except Exception as exc:  # DockerException, or requests' errors when the engine is gone
            return session.result(backend_error=f"the Docker engine refused the sandbox: {exc}")
        try:
            return await self._run_container(container_id, session, limits)
        finally:
            await asyncio.shield(asyncio.to_thread(self._remove, container_id))

    async def _run_container(
        self, container_id: str, session: Session, limits: SandboxLimits
    ) -> SandboxResult:
        try:
            sock = await asyncio.to_thread(self._attach, container_id)
            reader, writer = await asyncio.open_connection(sock=sock)
        except Exception as exc:
            return session.result(backend_error=f"cannot attach to the sandbox container: {exc}")
        stream = AttachStream(reader, session.stderr.add)

        async def send(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        timed_out, violation = False, None
        try:
            async with asyncio.timeout(limits.wall_seconds):
                try:
                    await asyncio.to_thread(self.client.api.start, container_id)
                except Exception as exc:
                    return session.result(backend_error=f"cannot start the sandbox container: {exc}")
                await session.converse(stream, send)
                if session.done is not None:  # let the last stderr bytes arrive
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stream.drain(), 1.0)
        except TimeoutError:
            timed_out = True
        except ProtocolViolation as exc:
            violation = str(exc)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            writer.close()
        exit_code, oom = None, False
        if session.done is None and not timed_out and violation is None:
            exit_code, oom = await asyncio.to_thread(self._exit_state, container_id)
        return session.result(
            timed_out=timed_out, exit_code=exit_code, oom=oom, violation=violation
        )

