"""A key package code read at the top of a document that holds it one level or more down.

"What rollout does config/flags.yaml set for new-checkout?" was computed by a 1.5B model as
``yaml.safe_load(inputs['flags']['content'])['new-checkout']``, and its rewrite as
``flags['new-checkout']['enabled']``: ``KeyError: 'new-checkout'`` each time, for a file whose
flags are under ``flags:``. With the inputs in hand the fix is plain when the documents they hold
(objects, JSON texts, YAML texts) have that key at exactly one place, under objects only, and at
none of their tops: each ``x['new-checkout']`` the code reads is read as
``x['flags']['new-checkout']``. A read of some other object than the top stays wrong and fails
again, for the reflexion model as before. It is the runtime mend ``nested-key`` of
:data:`sandbox.runtime_mends.RUNTIME_MENDS`.
"""

from __future__ import annotations

import ast
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from agent.plan.package_code import parse_python, source_span, spliced
from sandbox.input_outline import yaml_mapping

_TEXT_KEYS = ("content", "text")
_DEPTH = 6
_KEYS_LOOKED_AT = 5_000


def mended_nested_key(code: str, missing: str, inputs: dict[str, Any]) -> str | None:
    """``code`` with each ``x['missing']`` read as ``x[<the keys above it>]['missing']``, when
    the inputs' documents hold ``missing`` at exactly one place below their tops; else None."""
    paths: set[tuple[str, ...]] = set()
    for document in _documents(inputs):
        if missing in document:
            return None  # at a top: the read is of some other object
        paths.update(_paths_to(document, missing, ()))
    if len(paths) != 1:
        return None
    [above] = paths
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    spots = [node.slice for node in ast.walk(tree) if isinstance(node, ast.Subscript)
             and isinstance(node.slice, ast.Constant) and node.slice.value == missing
             and node.lineno == node.end_lineno]
    if not spots:
        return None
    chain = "][".join(repr(key) for key in (*above, missing))
    return spliced(code, [(*source_span(code, spot), chain) for spot in spots])


def _documents(inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The objects the inputs hold as documents: each input that is one, its parsed ``json``,
    and the JSON or YAML texts it read (``content``, ``text``)."""
    for value in inputs.values():
        items = value if isinstance(value, list) else [value]
        for item in items[:20]:
            if not isinstance(item, dict):
                continue
            yield item
            if isinstance(item.get("json"), dict):
                yield item["json"]
            for key in _TEXT_KEYS:
                text = item.get(key)
                if isinstance(text, str) and (parsed := _parsed(text)) is not None:
                    yield parsed


def _parsed(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if stripped[:1] == "{":
        with contextlib.suppress(ValueError, RecursionError):
            parsed = json.loads(stripped)
            return parsed if isinstance(parsed, dict) else None
        return None
    return yaml_mapping(stripped)


def _paths_to(document: dict[str, Any], key: str, above: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """The keys above each place ``key`` is held in ``document``'s objects, lists left out."""
    if len(above) >= _DEPTH:
        return
    for name, value in list(document.items())[:_KEYS_LOOKED_AT]:
        if not isinstance(value, dict) or not isinstance(name, str):
            continue
        if key in value:
            yield (*above, name)
        yield from _paths_to(value, key, (*above, name))
