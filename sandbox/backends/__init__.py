"""Sandbox backends: ``docker`` (production), ``bwrap`` (bubblewrap), and ``unavailable``."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sandbox.image import SANDBOX_PYTHON

RUNNER_SOURCE = (Path(__file__).resolve().parent.parent / "runner.py").read_text(encoding="utf-8")
"""The runner is passed as ``python3 -I -B -c RUNNER_SOURCE``: nothing to inject or bake in."""

RUNNER_COMMAND = [SANDBOX_PYTHON, "-I", "-B", "-c", RUNNER_SOURCE]

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/scratch",
    "TMPDIR": "/scratch",
    "LANG": "C.UTF-8",
    "MALLOC_ARENA_MAX": "1",
}
"""The whole environment of package code: nothing of the host's reaches it."""


def process_identity(pid: int | None = None) -> str | None:
    """``HOST/PID/START`` of a local process (START: its start time in clock ticks, so a reused
    pid is not taken for the same process), or None when it does not exist. Marks what a
    dagbot process made (containers, cgroups) so that the next one can tell orphans."""
    pid = os.getpid() if pid is None else pid
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    start = stat.rsplit(b")", 1)[1].split()[19].decode()  # field 22, after "pid (comm)"
    return f"{socket.gethostname()}/{pid}/{start}"
