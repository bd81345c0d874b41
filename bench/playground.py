"""Playground benchmark: from `git clone` to the playground answering its first example.

    python -m bench.playground [--quick] [--repo PATH]

Clones the repository (HEAD of PATH, default this checkout) into a temporary directory and
runs `make run` there as a newcomer would, with a free PORT. It times the page answering
(`GET /ui/state`), then sends the first example (*Parallel reads*) as alice and times its
answer. `--quick` skips the clone and starts the playground in this checkout (the virtualenv
and system pieces are already there), so only start-up and the first answer are measured.
What a "fresh machine" costs on top depends on what is already installed: apt packages, the
sandbox image and pip's cache are reused here when present (the JSON line says which).
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[1]
FIRST_EXAMPLE = ("/agent How are our services doing? Check the status page, the open incidents "
                 "and who is on call.")


def wait_for(probe, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench.playground: timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repo", default=str(ROOT))
    args = parser.parse_args()
    port = free_port()
    # A newcomer's machine: no Slack, no model, no DATABASE_URL (with one, serve wants Slack).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "DATABASE_URL"))}
    env["PORT"] = str(port)
    workdir = Path(tempfile.mkdtemp(prefix="dagbot-bench-"))
    started = time.monotonic()
    if args.quick:
        cwd, command = ROOT, [str(ROOT / ".venv" / "bin" / "dagbot"), "serve", "--port", str(port)]
        env["DAGBOT_PLAYGROUND_DIR"] = str(workdir / "playground")
    else:
        subprocess.run(["git", "clone", "-q", args.repo, str(workdir / "dagbot")], check=True)
        cwd, command = workdir / "dagbot", ["make", "run"]
    cloned = time.monotonic()
    log = (workdir / "run.log").open("w")
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/ui/state", timeout=2).status_code == 200, 1800, "the page")
        ready = time.monotonic()
        httpx.post(f"{url}/ui/send", json={"user": "U0ALICE", "channel": "C0OPS", "text": FIRST_EXAMPLE},
                   timeout=30).raise_for_status()
        wait_for(lambda: "Service health" in httpx.get(f"{url}/ui/state", timeout=5).text, 300, "the answer")
        answered = time.monotonic()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "clone_s": None if args.quick else round(cloned - started, 2),
        "clone_to_page_s": None if args.quick else round(ready - started, 2),
        "clone_to_first_answer_s": None if args.quick else round(answered - started, 2),
        "start_to_page_s": round(ready - cloned, 2),
        "first_example_answer_s": round(answered - ready, 2),
        "sandbox_image_present": shutil.which("docker") is not None and subprocess.run(
            ["docker", "image", "inspect", "dagbot-sandbox:1"], capture_output=True).returncode == 0,
    }
    print(f"{'measure':<28}{'seconds':>10}")
    for name, value in figures.items():
        print(f"{name:<28}{value!s:>10}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
