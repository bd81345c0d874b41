"""The package runner: the only dagbot code that runs *inside* the sandbox.

The host starts ``python3 -I -B -c <this file's source>`` in the sandbox (no file to inject,
nothing baked into the image) and talks to it over framed stdin/stdout; see
:mod:`sandbox.protocol` for the frames. Standard library only, Python 3.11.

What this file does, in order: with ``--watch-host`` (docker), forks a watcher that kills it
once the host's end of stdin closes; keeps the real stdin/stdout for the protocol and points
fd 0 at /dev/null and fd 1 at a pipe it forwards (capped) as ``out`` frames; reads the
``start`` frame (code, inputs, resource limits) and the large inputs, which it writes to
/scratch/inputs; lowers its own rlimits; runs the code with ``inputs``, ``input_files``,
``tools``, the tool exception classes and an ``open`` that reads a file a step read by the
path the read returned (:func:`read_opener`) as globals; reports ``result`` as JSON, or the
exception with a traceback that shows only the package's own lines.
"""

from __future__ import annotations

import builtins
import codecs
import collections
import errno
import io
import json
import linecache
import os
import resource
import select
import signal
import struct
import sys
import threading
import traceback
from typing import Any, NoReturn

PACKAGE_FILE = "<package>"
HEADER = struct.Struct(">I")
CHUNK = 65536
MAIN_PID = os.getpid()
NETWORK_ERRNOS = (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNRESET)
TEXT_FIELD_CHARS = 16_000
"""Cap for the error message and the traceback (sandbox.protocol.TEXT_FIELD_CHARS): a bigger
``done`` frame would pass the host's frame limit."""
WATCH_HOST = "--watch-host"
"""Argument after the source: stop as soon as the host's end of stdin closes (see watch_host)."""
HOST_GONE = 3
"""Exit status when the host's end of the channel closed: nobody is left to report to."""


class ToolError(Exception):
    """A tool call failed; the message comes from the host."""


class ToolNotAllowed(ToolError):
    """Unknown tool, or a red tool: packages may only call green tools."""


class ToolArgumentError(ToolError):
    """The arguments do not match the tool's schema."""


class ToolBudgetExceeded(ToolError):
    """The package used up its tool-call budget."""


class ToolTimeout(ToolError):
    """The tool did not answer in time."""


TOOL_ERRORS: dict[str, type[ToolError]] = {
    cls.__name__: cls
    for cls in (ToolError, ToolNotAllowed, ToolArgumentError, ToolBudgetExceeded, ToolTimeout)
}


class Channel:
    """Length-prefixed JSON frames over the two file descriptors the host owns."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.lock = threading.Lock()

    def send(self, frame: dict[str, Any]) -> None:
        data = json.dumps(frame, ensure_ascii=False).encode("utf-8", "replace")
        with self.lock:
            os.write(self.fd_out, HEADER.pack(len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd_out, view) :]

    def receive(self) -> dict[str, Any]:
        (size,) = HEADER.unpack(self._read(HEADER.size))
        frame = json.loads(self._read(size))
        if not isinstance(frame, dict):
            raise RuntimeError("dagbot sandbox: malformed frame from the host")
        return frame

    def _read(self, size: int) -> bytes:
        parts: list[bytes] = []
        while size:
            chunk = os.read(self.fd_in, min(size, 1 << 20))
            if not chunk:
                _exit_quietly(HOST_GONE)
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)


class CappedForwarder(threading.Thread):
    """Reads a pipe the script writes to and passes on the head up to ``cap`` bytes, then
    only a rolling tail, and how many bytes were dropped in between: a flood is cut here, at
    the source, before it costs the host anything."""

    def __init__(self, read_fd: int, cap: int) -> None:
        super().__init__(daemon=True)
        self.read_fd = read_fd
        self.cap = cap
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_cap = min(cap // 4, 4096)

    def emit(self, data: bytes) -> None:
        raise NotImplementedError

    def emit_end(self, dropped: int, tail: bytes) -> None:
        raise NotImplementedError

    def run(self) -> None:
        sent = dropped = tail_size = 0
        while chunk := os.read(self.read_fd, CHUNK):
            if sent < self.cap:
                head, chunk = chunk[: self.cap - sent], chunk[self.cap - sent :]
                sent += len(head)
                self.emit(head)
            if chunk:
                self.tail.append(chunk)
                tail_size += len(chunk)
                while tail_size - len(self.tail[0]) >= self.tail_cap:
                    tail_size -= len(self.tail[0])
                    dropped += len(self.tail.popleft())
        tail = b"".join(self.tail)
        if len(tail) > self.tail_cap:
            dropped += len(tail) - self.tail_cap
            tail = tail[-self.tail_cap :]
        if tail or dropped:
            self.emit_end(dropped, tail)


class StdoutForwarder(CappedForwarder):
    """The script's fd 1, sent to the host as ``out`` frames. The marker for what was cut
    travels as text: the host trusts no count a frame gives. The head leaves room for the
    marker and the tail, so the host's own cap cuts nothing."""

    def __init__(self, channel: Channel, read_fd: int, cap: int) -> None:
        super().__init__(read_fd, max(0, cap - min(cap // 4, 4096) - 200))
        self.channel = channel
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def emit(self, data: bytes) -> None:
        self.channel.send({"t": "out", "data": self.decoder.decode(data)})

    def emit_end(self, dropped: int, tail: bytes) -> None:
        marker = f"\n[truncated {dropped} bytes: stdout is capped at the source]\n" if dropped else ""
        self.channel.send({"t": "out", "data": marker + tail.decode("utf-8", "replace")})


class StderrForwarder(CappedForwarder):
    """The script's fd 2, passed on to the sandbox's real stderr: head, a marker, the tail
    (the same room left for them as on stdout)."""

    def __init__(self, stderr_fd: int, read_fd: int, cap: int) -> None:
        super().__init__(read_fd, max(0, cap - min(cap // 4, 4096) - 200))
        self.stderr_fd = stderr_fd

    def emit(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.stderr_fd, view) :]

    def emit_end(self, dropped: int, tail: bytes) -> None:
        if dropped:
            self.emit(f"\n[truncated {dropped} bytes: stderr is capped at the source]\n".encode())
        self.emit(tail)


class Tools:
    """``tools.NAME(**kwargs)`` asks the host to run the green tool NAME and returns its JSON."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._next_id = 0
        self._call_lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(**kwargs: Any) -> Any:
            return self._call(name, kwargs)

        call.__name__ = name
        return call

    def _call(self, name: str, args: dict[str, Any]) -> Any:
        try:
            json.dumps(args)
        except (TypeError, ValueError) as exc:
            raise ToolArgumentError(
                f"arguments of tools.{name}(...) must be JSON-serialisable: {exc}"
            ) from None
        with self._call_lock:  # one call at a time: request and reply stay paired
            self._next_id += 1
            self._channel.send({"t": "call", "id": self._next_id, "name": name, "args": args})
            reply = self._channel.receive()
        if reply.get("ok"):
            return reply.get("value")
        error_class = TOOL_ERRORS.get(str(reply.get("type")), ToolError)
        raise error_class(str(reply.get("error")))


def _exit_quietly(code: int) -> NoReturn:
    os._exit(code)


def watch_host() -> None:
    """Fork a watcher that SIGKILLs this runner as soon as the host's end of stdin closes.

    Under docker nothing else ends a run whose dagbot died (SIGKILL, no clean-up): the engine
    closes the container's stdin (StdinOnce), but a package that sleeps or computes reads no
    frame, so the runner would see it only at its deadline. A process, not a thread: a package
    in one long C call (a huge sum, a regular expression) holds the GIL for all of it, and a
    thread could not act before it returned. The watcher only polls; it never reads a frame.
    """
    runner = os.getpid()
    try:
        if os.fork():
            return
    except OSError:
        return  # no process to spare: the deadline inside the sandbox still holds
    os.closerange(1, 3)  # hold no end of the host's output streams
    poller = select.poll()
    poller.register(0, 0)  # POLLHUP and POLLERR are reported anyway; POLLIN would be the runner's
    while os.getppid() == runner:  # a runner that ended by itself re-parents the watcher
        if poller.poll(1000):
            if os.getppid() == runner:
                # the runner alone: its end ends the container's init, and the kernel kills
                # whatever the package forked with it
                os.kill(runner, signal.SIGKILL)
            break
    _exit_quietly(0)


def apply_limits(limits: dict[str, int | None]) -> None:
    names = {
        "as": resource.RLIMIT_AS, "nproc": resource.RLIMIT_NPROC, "cpu": resource.RLIMIT_CPU,
        "fsize": resource.RLIMIT_FSIZE, "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    for key, which in names.items():
        value = limits.get(key)
        if value is not None:
            resource.setrlimit(which, (value, value))


def receive_inputs(channel: Channel, start: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    inputs: dict[str, Any] = dict(start.get("inputs") or {})
    files: dict[str, str] = {}
    for _ in start.get("files") or []:
        frame = channel.receive()
        os.makedirs("/scratch/inputs", exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(frame["id"]))
        path = f"/scratch/inputs/{safe}.json"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(frame["json"])
        files[frame["id"]] = path
        inputs[frame["id"]] = json.loads(frame["json"])
    return inputs, files


def read_opener(inputs: dict[str, Any]) -> Any:
    """The package's ``open``: a file a step read, opened for reading by the path the read
    returned (``open(inputs['logs']['path'])``, or the path written out), gives the text the read
    returned. The sandbox has no workspace on its disk, and a small model writes its script as
    it would on its own machine, in a helper it calls with the path (bench.quality monday
    rejected-nginx-csv: FileNotFoundError in every attempt). A path no read returned, a file
    that is there, and any other mode are Python's own ``open``."""
    texts: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    for value in inputs.values():
        for item in value if isinstance(value, list) else [value]:
            read = isinstance(item, dict) and isinstance(item.get("content"), str)
            if read and isinstance(item.get("path"), str):
                path = item["path"].strip().removeprefix("./")
                if path not in texts:
                    texts[path] = item["content"]
                    names.setdefault(os.path.basename(path), []).append(path)

    def package_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and isinstance(mode, str) and not set(mode) & set("wabx+"):
            path = os.fspath(file)
            if isinstance(path, str) and not os.path.exists(path):
                wanted = path.strip().removeprefix("./")
                found = texts.get(wanted)
                if found is None and len(names.get(wanted, [])) == 1:  # (the file's name alone)
                    found = texts[names[wanted][0]]
                if found is not None:
                    return io.StringIO(found)
        return builtins.open(file, mode, *args, **kwargs)

    return package_open


def describe(exc: BaseException, start: dict[str, Any]) -> tuple[str, str]:
    if isinstance(exc, MemoryError):
        return ("MemoryLimitExceeded",
                f"the package ran out of memory (limit {start.get('memory_mb')} MB)")
    message = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN:
        message += f" (the sandbox allows at most {start.get('pids')} processes)"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        message += " (package code may write only under /scratch)"
    if isinstance(exc, OSError) and (
        exc.errno in NETWORK_ERRNOS or type(exc).__name__ == "gaierror"
    ):
        message += " (the sandbox has no network: fetch with a green tool, e.g. tools.http_get)"
    return type(exc).__name__, cap_text(message, TEXT_FIELD_CHARS)


def cap_text(text: str, cap: int) -> str:
    """``text`` when it has at most ``cap`` characters, else its head, a marker and its tail."""
    if len(text) <= cap:
        return text
    marker = f" [… {len(text)} characters in all, shortened …] "
    keep = max(0, cap - len(marker))
    return text[: keep - keep // 4] + marker + text[len(text) - keep // 4 :]


def package_traceback(exc: BaseException, cap: int) -> str:
    """The traceback with only the package's own frames (no runner frames)."""
    summary = traceback.TracebackException.from_exception(exc, capture_locals=False)
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if frame.filename == PACKAGE_FILE]
    )
    text = "".join(summary.format())
    return cap_text(text, cap)  # the head holds the package's frames, the tail the message


def run_package(channel: Channel, start: dict[str, Any]) -> dict[str, Any]:
    cap = int(start["output_bytes"])
    limits: dict[str, int | None] = start.get("limits") or {}
    inputs, files = receive_inputs(channel, start)
    code = str(start["code"])
    linecache.cache[PACKAGE_FILE] = (len(code), None, code.splitlines(True), PACKAGE_FILE)
    apply_limits(limits)
    namespace: dict[str, Any] = {
        "__name__": "__main__", "__builtins__": builtins, "inputs": inputs, "open": read_opener(inputs),
        "input_files": files, "tools": Tools(channel), "result": None, **TOOL_ERRORS,
    }
    try:
        exec(compile(code, PACKAGE_FILE, "exec"), namespace)  # noqa: S102 - inside the sandbox
    except SystemExit as exc:
        if os.getpid() != MAIN_PID:
            _exit_quietly(0)
        if exc.code not in (None, 0):
            return {"t": "done", "ok": False, "type": "SystemExit",
                    "error": cap_text(f"the package called exit({exc.code!r})", TEXT_FIELD_CHARS),
                    "traceback": ""}
    except BaseException as exc:
        if os.getpid() != MAIN_PID:  # a forked child of the package: report nothing
            _exit_quietly(1)
        namespace.clear()  # free what the package held (a memory hog's blocks) before reporting
        error_type, message = describe(exc, start)
        return {"t": "done", "ok": False, "type": error_type, "error": message,
                "traceback": package_traceback(exc, TEXT_FIELD_CHARS)}
    if os.getpid() != MAIN_PID:
        _exit_quietly(0)
    try:
        text = cap_result_json(
            json.dumps(namespace.get("result"), ensure_ascii=False, allow_nan=False), cap
        )
    except MemoryError:  # serialising needs a second copy: the package's limit, not ours
        namespace.clear()
        return memory_exceeded(start)
    except (TypeError, ValueError, RecursionError) as exc:
        kind = type(namespace.get("result")).__name__
        return {"t": "done", "ok": False, "type": "ResultNotSerializable",
                "error": f"`result` must be JSON-serialisable (dict, list, str, number, bool, "
                         f"None, not nested too deeply); got {kind}: {exc}", "traceback": ""}
    return {"t": "done", "ok": True, "result_json": text}


def memory_exceeded(start: dict[str, Any]) -> dict[str, Any]:
    return {"t": "done", "ok": False, "type": "MemoryLimitExceeded",
            "error": f"the package ran out of memory (limit {start.get('memory_mb')} MB)",
            "traceback": ""}


def cap_result_json(text: str, cap: int) -> str:
    """``text`` when it fits in ``cap`` bytes, else a JSON string of its head and a marker
    that fits (the host checks again: sandbox.protocol.cap_result_json)."""
    size = len(text.encode("utf-8"))
    if size <= cap:
        return text
    note = f"[truncated …: the result was {size} bytes of JSON, the cap is {cap}]"
    head = text.encode("utf-8")[: max(0, cap - len(note.encode("utf-8")) - 2)].decode(
        "utf-8", "ignore")
    del text
    while True:  # escaping can make the JSON longer than the raw head: trim until it fits
        capped = json.dumps(head + note, ensure_ascii=False)
        over = len(capped.encode("utf-8")) - cap
        if over <= 0 or not head:
            return capped
        head = head[: max(0, len(head) - over)]


def main() -> None:
    if WATCH_HOST in sys.argv[1:]:
        watch_host()  # first: one thread, and the least memory to share copy-on-write
    proto_in, proto_out = os.dup(0), os.dup(1)  # non-inheritable copies for the protocol
    real_stderr = os.dup(2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    out_read, out_write = os.pipe()
    os.dup2(out_write, 1)
    os.close(out_write)
    err_read, err_write = os.pipe()
    os.dup2(err_write, 2)
    os.close(err_write)
    # line by line, so what the script printed before it is killed (its wall time) has left
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    channel = Channel(proto_in, proto_out)
    threading.stack_size(256 * 1024)
    forwarders: list[CappedForwarder] = []
    start: dict[str, Any] = {}
    try:
        start = channel.receive()
        cap = int(start["output_bytes"])
        forwarders = [StdoutForwarder(channel, out_read, cap),
                      StderrForwarder(real_stderr, err_read, cap)]
        for forwarder in forwarders:
            forwarder.start()
        done = run_package(channel, start)
    except MemoryError:  # the package's allocations left none for the runner: its limit
        done = memory_exceeded(start)
    except Exception as exc:  # a runner failure, not the package's
        done = {"t": "done", "ok": False, "type": "SandboxError",
                "error": cap_text(f"the sandbox runner failed: {type(exc).__name__}: {exc}",
                                  TEXT_FIELD_CHARS),
                "traceback": traceback.format_exc()[-8000:]}
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(null, 1)  # close our write ends of the pipes: the forwarders see EOF
    os.dup2(null, 2)
    for forwarder in forwarders:
        forwarder.join(timeout=1.0)
    channel.send(done)
    _exit_quietly(0)


if __name__ == "__main__":
    main()
