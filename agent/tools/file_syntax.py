"""Whether a structured file read whole parses as what its name says it is (JSON, YAML, TOML).

A file named ``silences.json`` with a trailing comma reads as text like any other, and a small
model answered "when does the os-data-2 silence end?" from that text without a word about the
file being broken, where the request said to load it as JSON (morning broken-silences). The read
says so itself: :func:`syntax_note` is the parser's own error, in a sentence, for ``read_file``'s
``note``; the reply is the model's, the fact is the parser's.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from typing import Any

import yaml

_NOTE_START = "this file is "
_NOTE_END = "; a program that loads it as "


def _yaml(text: str) -> Any:
    return list(yaml.safe_load_all(text))


_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    ".json": ("JSON", json.loads), ".yaml": ("YAML", _yaml), ".yml": ("YAML", _yaml),
    ".toml": ("TOML", tomllib.loads),
}


def syntax_note(path: str, text: str) -> str | None:
    """The note for a file whose name says JSON, YAML or TOML and whose whole ``text`` does not
    parse as that: what the parser said, and that a program loading it fails. None when it
    parses, or its name says none of them."""
    suffix = path[path.rfind("."):].lower() if "." in path.rpartition("/")[2] else ""
    if suffix not in _PARSERS:
        return None
    kind, parse = _PARSERS[suffix]
    try:
        parse(text)
    except (ValueError, yaml.YAMLError) as exc:  # (json's and tomllib's errors are ValueErrors)
        said = " ".join(str(exc).split())
        return (f"{_NOTE_START}not valid {kind}: {said[:300]}{_NOTE_END}{kind} fails "
                "(its text is as written above)")
    return None


def unparsed(note: str) -> str | None:
    """What a :func:`syntax_note` says is wrong (``not valid JSON: Expecting value: line 6…``);
    None for any other note."""
    if not note.startswith(f"{_NOTE_START}not valid "):
        return None
    return note.removeprefix(_NOTE_START).partition(_NOTE_END)[0]
