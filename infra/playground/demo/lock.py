"""One user of the playground's directory at a time.

The playground starts from an empty database and a fresh demo workspace under
``DAGBOT_PLAYGROUND_DIR``, and ``dagbot ask`` with the demo model lays out the same workspace:
each would wipe what a running one is using. Whoever resets them first takes an exclusive
``flock`` on ``<dir>/.lock`` (released by the kernel when the process ends, however it ends)
and writes who it is there, so that the next one can say who is in the way.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".lock"


class PlaygroundBusy(Exception):
    """Another process uses the playground's directory."""


class PlaygroundLock:
    """The lock, held: :meth:`describe` says who holds it, for whoever finds it taken."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def describe(self, holder: str) -> None:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{holder} (pid {os.getpid()})".encode(), 0)


@contextlib.contextmanager
def playground_lock(directory: Path, holder: str) -> Iterator[PlaygroundLock]:
    """Hold ``directory``'s lock, or raise :class:`PlaygroundBusy` naming who holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 500, 0).decode(errors="replace").strip() or "another process"
            raise PlaygroundBusy(
                f"{directory} is in use by {other}: stop it first, or set DAGBOT_PLAYGROUND_DIR "
                "to another directory") from None
        lock = PlaygroundLock(fd)
        lock.describe(holder)
        try:
            yield lock
        finally:
            os.ftruncate(fd, 0)  # before the lock goes: nobody reads a stale holder
    finally:
        os.close(fd)
