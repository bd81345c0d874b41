"""The channel between the host and the runner inside the sandbox (framed stdin/stdout).

Every frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (an object
with a ``"t"`` type); the host writes ASCII JSON, so that text that is not valid Unicode
(lone surrogates) travels escaped. The host owns both ends: it writes the sandbox's stdin and reads its
stdout; the script's own stdout is a pipe inside the sandbox that the runner forwards as
``out`` frames, and stderr stays a plain stream.

    host → sandbox   start  {code, inputs, files: [ids], limits: {rlimits}, output_bytes}
                     file   {id, json}                      one per large input (> 64 KiB)
                     reply  {id, ok, value | type, error}   answer to a call
    sandbox → host   out    {data}                          script stdout (capped in the runner)
                     call   {id, name, args}                tools.NAME(**args)
                     done   {ok, result_json | type, error, traceback}

Everything that comes from the sandbox is untrusted: the package runs in the runner's own
process, so it can always write frames itself. Every size is checked here, on the host: frames
against ``max_frame``, stdout/stderr against their caps, the result against ``output_bytes``
(a forged ``done`` frame is capped like an honest one), and nesting depth (a frame nested
100,000 levels deep is a protocol error, not a ``RecursionError``). Fields a frame carries
about itself (sizes, counts, risk, approval) are never trusted; anything malformed ends the
run as a ``SandboxProtocolError``.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from agent.ports.sandbox import SandboxLimits, SandboxResult
from sandbox.bridge import ToolBridge

HEADER = struct.Struct(">I")
LARGE_INPUT_BYTES = 64 * 1024
STDERR_TAIL_BYTES = 4096
MAX_RESULT_DEPTH = 200
"""Deepest nesting accepted in a result: deeper values would break whatever serialises the
engine's state later, far from the package that made them."""
TEXT_FIELD_CHARS = 16_000
"""Cap for the error message and traceback of a ``done`` frame (the runner's own cap)."""
HOST_ERROR_TYPES = frozenset({"SandboxError", "SandboxUnavailable"})
"""Error types only the host may give: a ``done`` frame claiming one is the package's doing
(it shares the runner's process), so it must not stop reflexion as an infrastructure error."""


class ProtocolViolation(Exception):
    """The sandbox sent something that is not a valid frame."""


class FrameSource(Protocol):
    async def readexactly(self, n: int) -> bytes: ...


def encode(frame: dict[str, Any]) -> bytes:
    """A frame for the sandbox. ASCII JSON: text that is not valid Unicode (a lone surrogate,
    as Python gives a file name that is not UTF-8) travels escaped instead of breaking it."""
    data = json.dumps(frame, default=str).encode("ascii")
    return HEADER.pack(len(data)) + data


async def read_frame(reader: FrameSource, max_size: int) -> dict[str, Any] | None:
    """The next frame, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolViolation("the stream ended inside a frame header") from None
        return None
    (size,) = HEADER.unpack(header)
    if size > max_size:
        raise ProtocolViolation(f"frame of {size} bytes exceeds the {max_size}-byte limit")
    try:
        frame = json.loads(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        raise ProtocolViolation("the stream ended inside a frame") from None
    except ValueError as exc:
        raise ProtocolViolation(f"a frame is not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolViolation("a frame is nested too deeply") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("t"), str):
        raise ProtocolViolation("a frame is not a typed JSON object")
    return frame


class CappedText:
    """At most ``cap`` bytes of a stream: the head, a marker, and a short tail."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.tail_cap = min(cap // 4, STDERR_TAIL_BYTES)
        self.head_cap = cap - self.tail_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            del self.tail[: max(0, len(self.tail) - self.tail_cap)]

    @property
    def dropped(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if not self.dropped:
            return head + self.tail.decode("utf-8", "replace")
        marker = f"\n[truncated {self.dropped} bytes: output is capped at {self.cap} bytes]\n"
        return head + marker + self.tail.decode("utf-8", "ignore")

    def tail_text(self, size: int = 2000) -> str:
        return self.text()[-size:]


SendFn = Callable[[bytes], Awaitable[None]]


class Session:
    """One package run as seen from the host: sends the job, serves tool calls, collects
    output, and turns whatever happened into a :class:`SandboxResult`."""

    def __init__(
        self, code: str, inputs: dict[str, Any], bridge: ToolBridge, limits: SandboxLimits
    ) -> None:
        self.limits = limits
        self.bridge = bridge
        self.stdout = CappedText(limits.output_bytes)
        self.stderr = CappedText(limits.output_bytes)
        self.done: dict[str, Any] | None = None
        self.started = time.monotonic()
        self.max_frame = 8 * limits.output_bytes + (1 << 20)
        small: dict[str, Any] = {}
        self.files: list[dict[str, Any]] = []
        for key, value in inputs.items():
            text = json.dumps(value, default=str)  # ASCII, as frames (see encode)
            if len(text) > LARGE_INPUT_BYTES:
                self.files.append({"t": "file", "id": key, "json": text})
            else:
                small[key] = value
        self.start: dict[str, Any] = {
            "t": "start", "code": code, "inputs": small, "files": [f["id"] for f in self.files],
            "limits": {}, "output_bytes": limits.output_bytes, "pids": limits.pids,
            "memory_mb": limits.memory_mb,
        }
        self.rlimits: dict[str, int | None] = {}
        """Resource limits the runner sets on itself; each backend fills in its own."""

    @property
    def input_file_bytes(self) -> int:
        return sum(len(f["json"].encode("utf-8")) for f in self.files)

    async def converse(self, reader: FrameSource, send: SendFn) -> None:
        """Feed the job in, then serve frames until ``done`` or the end of the stream."""
        await send(encode(self.start | {"limits": self.rlimits}))
        for file_frame in self.files:
            await send(encode(file_frame))
        while (frame := await read_frame(reader, self.max_frame)) is not None:
            kind = frame["t"]
            if kind == "out":
                data = frame.get("data", "")
                if not isinstance(data, str):
                    raise ProtocolViolation("an out frame's data is not text")
                self.stdout.add(data.encode("utf-8", "replace"))
            elif kind == "call":
                await send(encode(await self.bridge.handle(frame)))
            elif kind == "done":
                self.done = _checked_done(frame)
                return
            else:
                raise ProtocolViolation(f"unknown frame type {kind!r}")

    async def drain_stderr(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(65536):
            self.stderr.add(chunk)

    def result(
        self, *, timed_out: bool = False, exit_code: int | None = None, oom: bool = False,
        violation: str | None = None, backend_error: str | None = None,
    ) -> SandboxResult:
        common: dict[str, Any] = {
            "stdout": self.stdout.text(), "stderr": self.stderr.text(),
            "duration_s": time.monotonic() - self.started,
        }
        done = self.done
        if done is not None and done["ok"]:
            try:
                text = cap_result_json(done["result_json"], self.limits.output_bytes)
                value = json.loads(text, parse_constant=_refuse_constant)
                _check_text(value)
            except (ValueError, RecursionError):  # UnicodeError is a ValueError
                return SandboxResult(ok=False, error_type="SandboxProtocolError",
                                     error="the sandbox reported a result that is not JSON",
                                     **common)
            if _depth_exceeds(value, MAX_RESULT_DEPTH):
                return SandboxResult(
                    ok=False, error_type="ResultNotSerializable",
                    error=f"`result` is nested more than {MAX_RESULT_DEPTH} levels deep; "
                          "return a flatter structure", **common)
            return SandboxResult(ok=True, result=value, **common)
        if done is not None:
            error_type = done["type"] or "Error"
            if error_type in HOST_ERROR_TYPES:
                error_type = "SandboxRunnerError"
            return SandboxResult(ok=False, error_type=error_type, error=done["error"],
                                 traceback=done["traceback"], **common)
        error_type, error = self._failure(timed_out, exit_code, oom, violation, backend_error)
        return SandboxResult(ok=False, error_type=error_type, error=error, **common)

    def _failure(
        self, timed_out: bool, exit_code: int | None, oom: bool, violation: str | None,
        backend_error: str | None,
    ) -> tuple[str, str]:
        limits = self.limits
        if backend_error:
            return "SandboxError", backend_error
        if timed_out:
            return ("TimeLimitExceeded",
                    f"the package ran longer than its {limits.wall_seconds:g} s wall-time limit "
                    "and was killed")
        if oom:
            return ("MemoryLimitExceeded",
                    f"the package used more than its {limits.memory_mb} MB memory limit and was "
                    "killed")
        if violation:
            return "SandboxProtocolError", f"the sandbox channel was misused: {violation}"
        if exit_code in (137, -9, 128 + 24, -24):
            return ("Killed", f"the package was killed (exit code {exit_code}): a CPU or memory "
                    "limit was probably reached")
        tail = self.stderr.tail_text(600).strip()
        detail = f"; stderr: {tail}" if tail else ""
        return ("SandboxCrashed",
                f"the sandbox ended (exit code {exit_code}) before the package reported a "
                f"result{detail}")


def _checked_done(frame: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``done`` frame the host uses, type-checked and cut to size."""
    ok = frame.get("ok")
    if not isinstance(ok, bool):
        raise ProtocolViolation("a done frame's 'ok' is not a boolean")
    fields = {"result_json": "null"} if ok else {"type": "", "error": "", "traceback": ""}
    checked: dict[str, Any] = {"t": "done", "ok": ok}
    for key, default in fields.items():
        value = frame.get(key, default)
        if not isinstance(value, str):
            raise ProtocolViolation(f"a done frame's {key!r} is not a string")
        checked[key] = value if key == "result_json" else _valid_text(value[-TEXT_FIELD_CHARS:])
    checked["type"] = checked.get("type", "")[:100]
    return checked


def _valid_text(text: str) -> str:
    """``text`` with what is not valid Unicode (lone surrogates) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_text(value: Any) -> None:
    """Raise UnicodeError when a string (or key) in ``value`` is not valid Unicode: a result
    with a lone surrogate would break whatever stores or sends it later."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def cap_result_json(text: str, cap: int) -> str:
    """``text`` when it fits in ``cap`` bytes, else a JSON string of its head and a marker
    that fits. The runner caps the same way; this is the check it cannot skip."""
    size = len(text.encode("utf-8"))
    if size <= cap:
        return text
    note = f"[truncated …: the result was {size} bytes of JSON, the cap is {cap}]"
    shown = text.encode("utf-8")[: max(0, cap - len(note.encode("utf-8")) - 2)]
    head = shown.decode("utf-8", "ignore")
    while True:  # escaping can make the JSON longer than the raw head: trim until it fits
        capped = json.dumps(head + note, ensure_ascii=False)
        over = len(capped.encode("utf-8")) - cap
        if over <= 0 or not head:
            return capped
        head = head[: max(0, len(head) - over)]


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False
