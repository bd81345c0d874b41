"""What a model file must be before llama.cpp may load it: there, a GGUF, and, for the
default file, the pinned one (any other GGUF the user names is taken as it is)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from infra.local_model.errors import ModelFileError
from infra.local_model.pin import DEFAULT_MODEL_PATH, DEFAULT_PIN, ModelPin, file_sha256
from infra.local_model.progress import ByteProgress

GGUF_MAGIC = b"GGUF"
PREPARE = "`make model` (or `dagbot model prepare`)"


def default_pins() -> dict[Path, ModelPin]:
    """The files whose content is pinned: the default model's, ``var/models/qwen….gguf`` under
    any directory (a checkout's, named from elsewhere too)."""
    return {DEFAULT_MODEL_PATH: DEFAULT_PIN}


def pin_of(path: Path, pins: Mapping[Path, ModelPin]) -> ModelPin | None:
    """The pin of ``path``: an absolute key names one file, a relative one the file at that
    path under any directory."""
    resolved = path.resolve()
    for where, pin in pins.items():
        if resolved == where if where.is_absolute() else resolved.parts[-len(where.parts):] == where.parts:
            return pin
    return None


def check_model_file(path: Path, pins: Mapping[Path, ModelPin] | None = None,
                     stream: TextIO | None = None) -> ModelPin | None:
    """Refuse a file llama.cpp must not load, with what to do about it; the pin it matched, if any."""
    pins = default_pins() if pins is None else pins
    pin = pin_of(path, pins)
    if not path.is_file():
        how = f"run {PREPARE} to assemble the default model" if pin else "name an existing GGUF file"
        raise ModelFileError(f"DAGBOT_LOCAL_MODEL: {path} does not exist: {how}.")
    with path.open("rb") as f:
        magic = f.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"DAGBOT_LOCAL_MODEL: {path} is not a GGUF model file (it starts with "
                             f"{magic!r}, not {GGUF_MAGIC!r}): llama.cpp loads GGUF files only.")
    if pin is None:
        return None
    progress = ByteProgress(f"checking {path.name}'s SHA-256", path.stat().st_size, stream, piped_steps=False)
    got = file_sha256(path, progress)
    progress.finish(f"{path.name}: its SHA-256 is the pinned one." if got == pin.sha256
                    else f"{path.name}: its SHA-256 is not the pinned one.")
    if got != pin.sha256:
        raise ModelFileError(
            f"DAGBOT_LOCAL_MODEL: {path} is not the pinned default model: its SHA-256 is {got}, expected "
            f"{pin.sha256}. Run `dagbot model prepare --dest {path}` to assemble it again from "
            f"{pin.source()}, or name another GGUF file.")
    return pin
