"""DAGBOT_LOCAL_MODEL is refused before anything loads when the file is missing, is no GGUF, or
is the default file with the wrong SHA-256; and it gives way to OPENAI_BASE_URL / OPENAI_API_KEY."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import ConfigurationError
from infra.local_model import DEFAULT_MODEL_PATH, DEFAULT_PIN, ModelFileError, ModelPin
from infra.local_model.checks import check_model_file
from infra.local_model.use import open_local_model, uses_local_model
from infra.settings import Settings
from infra.wiring import build_llm

ROOT = Path(__file__).resolve().parents[2]
GOOD = b"GGUF" + b"\x03\x00\x00\x00" + b"tensors" * 100


def pinned(path: Path, content: bytes = GOOD) -> dict[Path, ModelPin]:
    return {path.resolve(): ModelPin(file_name=path.name, served_name="tiny-local", packages=("tiny-part1",),
                                     version="0.2.0", size=len(content),
                                     sha256=hashlib.sha256(content).hexdigest())}


async def refusal(settings: Settings, pins: dict[Path, ModelPin] | None = None) -> str:
    with pytest.raises(ModelFileError) as caught:
        async with open_local_model(settings, pins=pins or {}):
            pytest.fail("the server was started")
    return str(caught.value)


async def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    message = await refusal(Settings(DAGBOT_LOCAL_MODEL=str(missing)))
    assert message == f"DAGBOT_LOCAL_MODEL: {missing} does not exist: name an existing GGUF file."


async def test_the_missing_default_file_says_how_to_make_it(tmp_path: Path) -> None:
    missing = tmp_path / "default.gguf"
    message = await refusal(Settings(DAGBOT_LOCAL_MODEL=str(missing)), pinned(missing))
    assert "does not exist: run `make model` (or `dagbot model prepare`)" in message


async def test_a_file_that_is_no_gguf_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "model.bin"
    other.write_bytes(b"PK\x03\x04 a zip, say")
    message = await refusal(Settings(DAGBOT_LOCAL_MODEL=str(other)))
    assert message == (f"DAGBOT_LOCAL_MODEL: {other} is not a GGUF model file (it starts with b'PK\\x03\\x04', "
                       "not b'GGUF'): llama.cpp loads GGUF files only.")


async def test_the_default_file_with_the_wrong_sha256_is_refused(tmp_path: Path) -> None:
    default = tmp_path / "default.gguf"
    default.write_bytes(GOOD + b"tampered")
    message = await refusal(Settings(DAGBOT_LOCAL_MODEL=str(default)), pinned(default))
    got = hashlib.sha256(GOOD + b"tampered").hexdigest()
    assert f"{default} is not the pinned default model: its SHA-256 is {got}, expected " in message
    assert f"`dagbot model prepare --dest {default}`" in message


async def test_the_default_path_is_pinned_under_any_directory(tmp_path: Path) -> None:
    default = tmp_path / "checkout" / DEFAULT_MODEL_PATH
    default.parent.mkdir(parents=True)
    default.write_bytes(GOOD)
    with pytest.raises(ModelFileError, match=f"expected {DEFAULT_PIN.sha256}"):
        async with open_local_model(Settings(DAGBOT_LOCAL_MODEL=str(default))):
            pytest.fail("the server was started")


def test_the_default_file_is_pinned_and_any_other_gguf_taken_as_it_is(tmp_path: Path) -> None:
    default, other = tmp_path / "default.gguf", tmp_path / "mine.gguf"
    default.write_bytes(GOOD)
    other.write_bytes(GOOD + b"anything")
    out = io.StringIO()
    pin = check_model_file(default, pinned(default), stream=out)
    assert pin is not None and out.getvalue() == "checking default.gguf's SHA-256 …\n"  # piped: one line
    assert check_model_file(other, pinned(default), stream=out) is None
    assert check_model_file(other) is None  # the real pin: only var/models/…, the default path


async def test_a_model_set_otherwise_wins_and_nothing_starts(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"  # not even looked at
    settings = Settings(DAGBOT_LOCAL_MODEL=str(missing), OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert not uses_local_model(settings)
    async with open_local_model(settings) as used:
        assert used.local_model is None and used.openai_base_url == "http://127.0.0.1:9/v1"
    async with open_local_model(Settings()) as used:
        assert used.local_model is None and used.openai_base_url is None


def test_the_client_is_not_built_for_a_local_model_not_started() -> None:
    with pytest.raises(ConfigurationError, match="DAGBOT_LOCAL_MODEL is set but its server was not started"):
        build_llm(Settings(DAGBOT_LOCAL_MODEL=str(DEFAULT_MODEL_PATH)))


def test_dagbot_ask_says_it_in_one_line(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    done = subprocess.run(
        [sys.executable, "-c", "from infra.cli.entry import main; main()", "ask", "hello"],
        env={**env, "DAGBOT_LOCAL_MODEL": "nowhere.gguf", "DATABASE_URL": f"sqlite:///{tmp_path}/d.sqlite",
             "PYTHONPATH": str(ROOT)},
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == ("dagbot: DAGBOT_LOCAL_MODEL: nowhere.gguf does not exist: name an existing GGUF "
                           "file.\n")
