"""``${id}`` / ``${id.field}`` references between plan nodes (docs/plan-format.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

REFERENCE = re.compile(r"\$\{([a-z][a-z0-9_]{0,31})((?:\.[A-Za-z0-9_\-]+|\[\d+\])*)\}")
"""``${id}``, ``${id.field}``, ``${id.items.0}``; a list index may also be written ``[0]``, as
models often write it (``${id.items[0].text}``)."""
_PART = re.compile(r"[^.\[\]]+")
_MALFORMED = re.compile(r"\$\{\s*([a-z][a-z0-9_]{0,31})[^}]{0,200}\}?")
PACKAGE_RESULT = "result"
"""The variable a package's code sets; ``${x.result}`` is read as ``${x}`` when x's output has
no field of that name, as models often write it."""


_BODY_NAMES = frozenset({"text", "content", "body", "output", "value", "values", "items", "lines", "rows",
                         "records", "entries", "results", "list", "data"})
"""What a model calls a value as a whole: a list has no such field, so it means the list
(console full-disks-to-file wrote the mounts a package listed as ``${filter.rows}``)."""


class UnresolvedReference(ValueError):
    """A reference names a field its node's output does not have."""


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (not its keys)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def mapped_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A JSON value with every string in it (not its keys) changed by ``change``."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {key: mapped_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [mapped_strings(item, change) for item in value]
    return value


def iter_references(value: Any) -> Iterator[tuple[str, str]]:
    """Yield (node id, field path) for every reference anywhere in a JSON value."""
    for text in strings(value):
        for match in REFERENCE.finditer(text):
            yield match.group(1), ".".join(_PART.findall(match.group(2)))


def referenced_ids(value: Any) -> set[str]:
    return {node_id for node_id, _ in iter_references(value)}


def malformed_references(text: str, node_ids: Collection[str]) -> dict[str, str]:
    """The ``${…}`` in ``text`` that name a node of ``node_ids`` but are no reference this
    format can fill (``${x.rows[0]['open']}``, ``${x.content.splitlines()[0]}``), with the node
    each names: left in an answer or an argument, they would be sent as written."""
    rest = REFERENCE.sub("", text)
    return {match.group(0): match.group(1) for match in _MALFORMED.finditer(rest)
            if match.group(1) in node_ids}


def malformed_reference_ids(text: str, node_ids: Collection[str]) -> set[str]:
    """The nodes that :func:`malformed_references` in ``text`` name."""
    return set(malformed_references(text, node_ids).values())


def is_whole_reference(value: Any) -> bool:
    return isinstance(value, str) and REFERENCE.fullmatch(value) is not None


def path_parts(path: str) -> list[str]:
    """A reference's path as its parts: ``.items[0].text`` → ``['items', '0', 'text']``."""
    return _PART.findall(path)


def _lookup(outputs: Mapping[str, Any], node_id: str, path: str) -> Any:
    value = outputs[node_id]
    parts = _PART.findall(path)
    path = ".".join(parts)
    if parts[:1] == [PACKAGE_RESULT] and not (isinstance(value, Mapping) and PACKAGE_RESULT in value):
        parts = parts[1:]  # ${count.result}: a package's output is what its code set `result` to
    if isinstance(value, str | int | float) and parts[:1] and (not parts[0].isdigit() or parts == ["0"]):
        # ${summary.text} of a package that set result to text or a number: it has no other; and
        # ${top[0]} of one that set it to one name (a small model's "the first of them")
        return value
    if isinstance(value, list) and parts[:1] and parts[0] in _BODY_NAMES:
        parts = parts[1:]  # ${stalled.text} of a package that set result to a list: the list is its body
    for part in parts:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise UnresolvedReference(f"'${{{node_id}.{path}}}': the output of '{node_id}' has no '{part}'")
    return value


def valueless_references(value: Any, outputs: Mapping[str, Any]) -> list[str]:
    """The nodes whose value a reference in ``value`` takes is None (a package that set no
    ``result``), each once: ``count`` for ``${count}``. One that does not resolve is not among
    them (resolving says why)."""
    found = []
    for text in strings(value):
        for match in REFERENCE.finditer(text):
            try:
                if match.group(1) in outputs and _lookup(outputs, match.group(1), match.group(2)) is None:
                    found.append(match.group(1))
            except UnresolvedReference:
                continue
    return list(dict.fromkeys(found))


def unfilled_ids(value: Any, outputs: Mapping[str, Any]) -> set[str]:
    """The nodes of ``outputs`` a reference in ``value`` names that give it nothing: a field
    their output does not have, or None (a package that set no ``result``)."""
    found = set()
    for text in strings(value):
        for match in REFERENCE.finditer(text):
            if match.group(1) not in outputs:
                continue
            try:
                if _lookup(outputs, match.group(1), match.group(2)) is None:
                    found.add(match.group(1))
            except UnresolvedReference:
                found.add(match.group(1))
    return found


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def text_form(value: Any) -> str:
    """A node's output where only text is taken (a whole reference in a text argument): a
    number or a flag as it is written, a list of such values one per line (names written to a
    file, a mail's list), any other structure as indented JSON."""
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value) \
            and not any(isinstance(v, str) and "\n" in v for v in value):
        return "\n".join(_text(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return _text(value)


def fill_text(text: str, outputs: Mapping[str, Any]) -> str:
    """``text`` with every reference it can resolve replaced by its value's text form; the
    others stay as they are."""
    def one(match: re.Match[str]) -> str:
        try:
            return _united(_text(_lookup(outputs, match.group(1), match.group(2))), match)
        except (KeyError, UnresolvedReference):
            return match.group(0)
    return _REFERENCE_AND_UNIT.sub(one, text)


_REFERENCE_AND_UNIT = re.compile(REFERENCE.pattern + r"(?P<unit>\s+(?:bytes?|[KMGTP]i?B|B|seconds?|secs?|ms|"
                                 r"milliseconds?|minutes?|mins?|hours?)\b)?")
"""A reference and the unit word a text puts after it ("${total} bytes")."""
_ENDS_IN_UNIT = re.compile(r"\d\s?(?:[KMGTP]i?B?|B|ms|s|sec|min|h|d)$")


def _united(value: str, match: re.Match[str]) -> str:
    """``value`` in the place of ``match``: when it carries its unit (dagbot's query gives one
    value of a column with its unit: ``19.3 GiB``), the text's own unit word after the reference
    is left out ("${total} bytes" was "19.3 bytes": nightly mail-users-total); else the word stays."""
    unit = match.group("unit") or ""
    return value if unit and _ENDS_IN_UNIT.search(value) else value + unit


def resolve(value: Any, outputs: Mapping[str, Any]) -> Any:
    """Replace references by dependency outputs.

    A whole-string reference becomes the referenced value (any JSON); a reference
    inside a longer string becomes its text form.
    """
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return _lookup(outputs, whole.group(1), whole.group(2))
        return _REFERENCE_AND_UNIT.sub(
            lambda m: _united(_text(_lookup(outputs, m.group(1), m.group(2))), m), value)
    if isinstance(value, Mapping):
        return {k: resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs) for v in value]
    return value
