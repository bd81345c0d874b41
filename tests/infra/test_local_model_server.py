"""The local model: llama.cpp's server in a child process, started once for dagbot, pointed at by
the settings, stopped with it. The real-model tests need the file `make model` assembles: they
are skipped without it, and fail instead when `CI` is set."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from infra.local_model import DEFAULT_MODEL_PATH, DEFAULT_PIN, ModelServerError
from infra.local_model.process import ServerOptions, serving_model
from infra.local_model.use import LOCAL_PROMPT_CHARS, local_model_note, open_local_model
from infra.playground.demo import model_is_configured
from infra.settings import Settings
from infra.wiring import LOCAL_MODEL_TIMEOUT_SECONDS, build_llm
from tests.infra.conftest import ROOT

# One llama.cpp server at a time on the machine (two share its cores and crawl): under
# pytest-xdist these run on one worker, one after another.
pytestmark = pytest.mark.xdist_group("local_model")


def children(command_part: str) -> list[int]:
    """This process's children whose command line holds ``command_part`` (Linux /proc)."""
    pids = [int(pid) for task in Path("/proc/self/task").iterdir()
            for pid in (task / "children").read_text().split()]
    return [pid for pid in pids if command_part in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper (a container's init may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_the_local_model_plans_for_dagbot_and_stops_with_it(model_file: Path, tmp_path: Path) -> None:
    said: list[str] = []
    # one thread: the suite's other workers hold the other core (DAGBOT_LOCAL_MODEL_THREADS)
    settings = Settings(DAGBOT_LOCAL_MODEL=str(model_file), DATABASE_URL=f"sqlite:///{tmp_path}/d.sqlite",
                        DAGBOT_LOCAL_MODEL_THREADS=1, DAGBOT_REPLY_TOKENS=512)
    assert model_is_configured(settings)
    async with open_local_model(settings, say=said.append) as used:
        [pid] = children("infra.local_model.serve")
        assert alive(pid)
        assert "\0--threads\x001\0" in Path(f"/proc/{pid}/cmdline").read_text()
        assert "\0--predict\x00512\0" in Path(f"/proc/{pid}/cmdline").read_text()  # DAGBOT_REPLY_TOKENS
        assert used.openai_base_url and used.openai_base_url.startswith("http://127.0.0.1:")
        if model_file.resolve() == (ROOT / DEFAULT_MODEL_PATH).resolve():
            assert used.model == DEFAULT_PIN.served_name
        assert used.prompt_chars == LOCAL_PROMPT_CHARS and used.local_model == model_file
        assert "local model" in local_model_note(used)
        assert said[0].startswith(f"loading the local model {model_file.name}") and "loaded in" in said[-1]
        base = used.openai_base_url.removesuffix("/v1")
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/health")).json() == {"status": "ok"}
            refused = await client.post(f"{base}/v1/chat/completions", json={"messages": []})
            assert refused.status_code == 401  # only dagbot, with the key made for the run, may use it
        llm = build_llm(used)
        assert llm.request_timeout == LOCAL_MODEL_TIMEOUT_SECONDS  # type: ignore[attr-defined]
        question = "Reply with exactly one word: pong"
        first = await llm.ainvoke(question, max_tokens=8)
        again = await llm.ainvoke(question, max_tokens=8)
        assert isinstance(first.content, str) and first.content.strip()
        assert again.content == first.content  # temperature 0, a fixed seed
    assert not alive(pid)


def test_killing_dagbot_kills_the_model_server(model_file: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-m", "tests.infra.local_model_parent", str(model_file)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line, parent.stderr.read() if parent.stderr else ""
        server = json.loads(line)
        assert alive(server["pid"]) and httpx.get(f"{server['url']}/health").status_code == 200
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        deadline = time.monotonic() + 3
        while alive(server["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(server["pid"]), "the model server outlived dagbot"
    finally:
        parent.kill()
        parent.wait(5)


async def test_a_file_llama_cpp_cannot_load_is_said_with_its_stderr(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(ModelServerError) as caught:
        async with serving_model(broken, ServerOptions(threads=1), say=lambda line: None):
            pass
    message = str(caught.value)
    assert f"llama.cpp's server stopped while loading {broken}" in message
    assert "Its last lines:" in message and "llama.cpp's server did not start" in message
    assert children("infra.local_model.serve") == []


async def test_dagbot_waits_for_it_without_blocking_its_loop(tmp_path: Path) -> None:
    """While the child loads (here: fails to), the event loop keeps running."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    with pytest.raises(ModelServerError):
        async with serving_model(broken, ServerOptions(threads=1), say=lambda line: None):
            pass
    ticker.cancel()
    assert ticks > 5
