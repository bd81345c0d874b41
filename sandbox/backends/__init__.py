"""Sandbox backends: ``docker`` (production), ``bwrap`` (bubblewrap), and ``unavailable``."""

from __future__ import annotations

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
