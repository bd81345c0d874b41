"""What can go wrong with the local model, each told as a sentence the user can act on.

    LocalModelError
     ├── ModelAssemblyError  the default model could not be assembled (download, parts, SHA-256)
     ├── ModelFileError      DAGBOT_LOCAL_MODEL names no file, no GGUF, or a default file not the pinned one
     └── ModelServerError    llama.cpp's server died or did not answer while loading
"""

from __future__ import annotations


class LocalModelError(Exception):
    """The local model cannot be used; the message says why and what to do."""


class ModelAssemblyError(LocalModelError):
    """`dagbot model prepare` could not produce the pinned file; nothing was written."""


class ModelFileError(LocalModelError):
    """The model file is missing, is not a GGUF, or is the default file with the wrong SHA-256."""


class ModelServerError(LocalModelError):
    """llama.cpp's server stopped or did not become healthy while loading the model."""
