"""Progress lines on stderr: in place on a terminal, a line every tenth otherwise (logs, CI)."""

from __future__ import annotations

import sys
from typing import TextIO

MB = 1_000_000


def say(text: str, stream: TextIO | None = None) -> None:
    """One line for the person waiting (stderr: stdout stays for what a command outputs)."""
    out = stream or sys.stderr
    out.write(text + "\n")
    out.flush()


class ByteProgress:
    """``assembling qwen….gguf: 512 / 1,117 MB (46%)`` as bytes go by."""

    def __init__(self, what: str, total: int, stream: TextIO | None = None, *,
                 piped_steps: bool = True) -> None:
        self.what, self.total, self.done = what, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.in_place = self.stream.isatty()
        self.quiet = not (self.in_place or piped_steps)
        """Piped (a log), only the first line: for a wait of a second or two."""
        self._shown = -1

    def advance(self, count: int) -> None:
        self.done += count
        percent = min(100, self.done * 100 // self.total)
        step = percent if self.in_place else percent // 10 * 10
        if self.quiet:
            if self._shown < 0:
                self._shown = 0
                self._write(f"{self.what} …")
        elif step != self._shown:
            self._shown = step
            self._write(f"{self.what}: {self.done // MB:,} / {self.total // MB:,} MB ({percent}%)")

    def finish(self, text: str) -> None:
        if not self.quiet:
            self._write(text, end=True)

    def _write(self, line: str, end: bool = False) -> None:
        if self.in_place:
            self.stream.write("\r\033[K" + line + ("\n" if end else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
