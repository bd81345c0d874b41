"""The parent's side of the child that serves the model: start it, wait until it answers,
watch it, stop it (:mod:`infra.local_model.serve` is the child)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog

from infra.local_model.errors import ModelServerError

log = structlog.get_logger(__name__)

LOAD_TIMEOUT_SECONDS = 600.0
"""Loading a model from a cold disk on a slow machine; the default one takes ~5 s here."""
STOP_GRACE_SECONDS = 3.0
STDERR_TAIL_LINES = 25


def cpu_cores() -> int:
    """The cores this process may use (a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class ServerOptions:
    """How llama.cpp's server runs the model."""

    context_tokens: int = 8192
    """The context window of the one slot: prompt and reply together."""
    reply_tokens: int = 1024
    """The most tokens one reply may have: a small model can run away."""
    threads: int = field(default_factory=cpu_cores)
    seed: int = 42
    prompt_cache_mib: int = 1024
    """Prompt states kept in RAM across requests (the planner's and joiner's long prefixes)."""


@dataclass(frozen=True)
class RunningServer:
    url: str
    """``http://127.0.0.1:PORT``; the OpenAI-compatible API is under ``/v1``."""
    api_key: str
    """What the server asks for ('' for none)."""
    pid: int

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"


@contextlib.asynccontextmanager
async def serving_model(model: Path, options: ServerOptions | None = None, *,
                        say: Callable[[str], None] | None = None,
                        with_key: bool = True) -> AsyncIterator[RunningServer]:
    """llama.cpp's server on 127.0.0.1 as a child process, until the block ends. ``with_key``:
    it asks for an API key made for the run (other local users cannot use it)."""
    options = options or ServerOptions()
    say = say or _stderr
    key = secrets.token_urlsafe(24) if with_key else ""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "infra.local_model.serve", "--model", str(model), "--parent", str(os.getpid()),
        "--threads", str(options.threads), "--ctx", str(options.context_tokens),
        "--predict", str(options.reply_tokens), "--seed", str(options.seed),
        "--cache-ram-mib", str(options.prompt_cache_mib),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C in the terminal is the bot's to handle, not the child's
    )
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    reading = asyncio.create_task(_read_stderr(child, tail), name="local-model-stderr")
    watch: asyncio.Task[None] | None = None
    stopping = False
    try:
        assert child.stdin is not None
        child.stdin.write(key.encode() + b"\n")
        with contextlib.suppress(ConnectionError):  # it died at once: its stderr tells why, below
            await child.stdin.drain()
        size = await asyncio.to_thread(lambda: model.stat().st_size)
        url = await _wait_until_loaded(child, model, size, tail, say)
        await _wait_until_healthy(url, child, tail)
        server = RunningServer(url=url, api_key=key, pid=child.pid)

        async def watch_child() -> None:
            code = await child.wait()
            if not stopping:
                log.error("the local model's server stopped: requests to the model fail until dagbot "
                          "restarts", exit_code=code, stderr=_tail_text(tail))

        watch = asyncio.create_task(watch_child(), name="local-model-watch")
        yield server
    finally:
        stopping = True
        await _stop(child)
        for task in (watch, reading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def _wait_until_loaded(child: asyncio.subprocess.Process, model: Path, size: int,
                             tail: collections.deque[str], say: Callable[[str], None]) -> str:
    assert child.stdout is not None
    what = f"loading the local model {model.name} ({size // 1_000_000:,} MB) with llama.cpp"
    ticking = say is _stderr and sys.stderr.isatty()
    say(what + " …")
    started = time.monotonic()
    line = asyncio.ensure_future(child.stdout.readline())
    try:
        while not line.done():
            waited = time.monotonic() - started
            if waited > LOAD_TIMEOUT_SECONDS:
                raise ModelServerError(f"llama.cpp's server did not finish loading {model} within "
                                       f"{LOAD_TIMEOUT_SECONDS:.0f} s. Its last lines:\n{_tail_text(tail)}")
            await asyncio.wait({line}, timeout=1.0)
            if ticking and not line.done():
                sys.stderr.write(f"\r\033[K{what}: {time.monotonic() - started:.0f} s")
                sys.stderr.flush()
    finally:
        if not line.done():
            line.cancel()
        if ticking:
            sys.stderr.write("\r\033[K")
    text = line.result()
    if not text:  # it exited
        code = await child.wait()
        await asyncio.sleep(0.2)  # the last of its stderr
        raise ModelServerError(f"llama.cpp's server stopped while loading {model} (exit code {code}): is it "
                               f"a model llama.cpp supports, and is there memory for it? Its last "
                               f"lines:\n{_tail_text(tail)}")
    url = str(json.loads(text)["url"])
    say(f"local model loaded in {time.monotonic() - started:.1f} s (llama.cpp at {url}, pid {child.pid}).")
    return url


async def _wait_until_healthy(url: str, child: asyncio.subprocess.Process,
                              tail: collections.deque[str]) -> None:
    """The server says it listens once loaded; /health confirms it answers HTTP."""
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            if child.returncode is not None:
                break
            await asyncio.sleep(0.1)
    raise ModelServerError(f"llama.cpp's server at {url} did not answer /health. Its last lines:\n"
                           f"{_tail_text(tail)}")


async def _stop(child: asyncio.subprocess.Process) -> None:
    """Close its stdin (it exits at once), then SIGKILL if it is still there (e.g. mid-load)."""
    if child.returncode is None and child.stdin is not None:
        child.stdin.close()
    try:
        await asyncio.wait_for(child.wait(), STOP_GRACE_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()


async def _read_stderr(child: asyncio.subprocess.Process, tail: collections.deque[str]) -> None:
    assert child.stderr is not None
    while line := await child.stderr.readline():
        text = line.decode(errors="replace").rstrip()
        tail.append(text)
        log.debug("llama.cpp", line=text)


def _tail_text(tail: collections.deque[str]) -> str:
    return "\n".join(f"  {line}" for line in tail) or "  (nothing on stderr)"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
