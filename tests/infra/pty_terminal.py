"""A command run in a pseudo-terminal, as a person runs it in theirs: what it prints (colours
and all, as it decides for a terminal), and lines typed at its questions."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                 columns: int = 100, rows: int = 40) -> None:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            list(argv), stdin=follower, stdout=follower, stderr=follower, cwd=cwd, start_new_session=True,
            env={**env, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm-256color"})
        os.close(follower)
        self.fd = leader
        self.raw = ""
        self._seen = 0
        self._closed = False

    @property
    def text(self) -> str:
        """Everything printed so far, as a person reads it (no colour codes, plain line ends)."""
        return _ANSI.sub("", self.raw).replace("\r\n", "\n").replace("\r", "\n")

    def _read(self, deadline: float) -> bool:
        """Read what is there (waiting until ``deadline``); False once the output has ended."""
        if self._closed:
            return False
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the terminal has gone
            chunk = b""
        if not chunk:
            self._closed = True
            return False
        self.raw += chunk.decode("utf-8", errors="replace")
        return True

    def expect(self, wanted: str, timeout: float = 60) -> str:
        """Wait until ``wanted`` is printed (after what an earlier expect found); returns the
        text from there up to and including it."""
        deadline = time.monotonic() + timeout
        while True:
            at = self.text.find(wanted, self._seen)
            if at >= 0:
                start, self._seen = self._seen, at + len(wanted)
                return self.text[start:self._seen]
            if time.monotonic() >= deadline or not self._read(deadline):
                raise AssertionError(f"{wanted!r} was not printed; the terminal shows:\n{self.text}")

    def type(self, line: str) -> None:
        """Type ``line`` and press Enter."""
        os.write(self.fd, (line + "\n").encode())

    def wait(self, timeout: float = 60) -> int:
        """Read to the end of the output; the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            if time.monotonic() >= deadline:
                self.close()
                raise AssertionError(f"still running after {timeout} s; the terminal shows:\n{self.text}")
        return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.close(self.fd)
