"""The child process that runs llama.cpp's server (xllamacpp) for dagbot.

    python -m infra.local_model.serve --model PATH --parent PID [--threads N …]

A process of its own, so that loading never blocks the bot's event loop and a crash of the
native code never takes the bot down. Its stdin's first line is the API key the server is to
ask for (a key made for the run: other local users cannot use the model; never in argv, which
``ps`` shows). It prints one JSON line, ``{"url": …}``, once the model is loaded and the server
listens, and it dies with its parent: when its stdin closes (the parent exits or closes it)
and, on Linux, by a SIGKILL the kernel sends when the parent dies.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
import threading
from typing import Any

PR_SET_PDEATHSIG = 1


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    _die_with_parent(args.parent)
    key = sys.stdin.readline().strip()
    threading.Thread(target=_exit_when_stdin_closes, name="stdin-watch", daemon=True).start()
    import xllamacpp

    try:
        server = xllamacpp.Server(server_params(xllamacpp, args, key))
    except Exception as exc:  # the native side's own message is on stderr above this line
        sys.stderr.write(f"llama.cpp's server did not start: {exc}\n")
        sys.stderr.flush()
        os._exit(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the server's own handler would only stop its loop
    sys.stdout.write(json.dumps({"url": server.listening_address}) + "\n")
    sys.stdout.flush()
    threading.Event().wait()  # until stdin closes


def server_params(xllamacpp: Any, args: argparse.Namespace, key: str) -> Any:
    """Deterministic and bounded: temperature 0 and a fixed seed by default, one slot, replies
    capped (a small model can run away), a prompt cache of bounded size across requests."""
    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.api_keys = [key] if key else []
    params.ui = False
    params.n_ctx = args.ctx
    params.n_parallel = 1
    params.n_predict = args.predict
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.use_jinja = True  # the model's own chat template: tool calls in and out
    params.sampling.temp = 0.0
    params.sampling.seed = args.seed
    params.cache_ram_mib = args.cache_ram_mib
    return params


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.local_model.serve", description=__doc__)
    parser.add_argument("--model", required=True, help="The GGUF file (checked by the parent).")
    parser.add_argument("--parent", type=int, required=True, help="The pid to die with.")
    parser.add_argument("--port", type=int, default=0, help="0: any free port.")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ctx", type=int, default=8192, help="Context window, tokens.")
    parser.add_argument("--predict", type=int, default=1024, help="Most tokens of one reply.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-ram-mib", type=int, default=1024, help="Prompt cache across requests.")
    return parser


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the parent dies, even mid-load (when Python threads cannot run)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _exit_when_stdin_closes() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
