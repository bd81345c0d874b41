"""Where a problem is in one of dagbot's YAML files (the access policy, the alert routes): its
file, line and key, so that each message a person reads at start says where to look, e.g.
``policy.yml:7: tools.deploy.approvers[1]: 'bob' is not a Slack user id``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


class InvalidYaml(ValueError):
    """The text is not YAML; the message names the file and line."""


def read_yaml(text: str, name: str) -> tuple[Any, Any]:
    """The text's node tree (for lines) and its data; :class:`InvalidYaml` when it is not YAML."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise InvalidYaml(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None


def problem_at(name: str, root: Any, loc: tuple[Any, ...], message: str) -> str:
    """``message`` about the value at ``loc``, prefixed with the file, its line and its key path."""
    line = line_of(root, loc)
    return f"{name}:{line}: {key_path(loc)}: {message}" if line else f"{name}: {key_path(loc)}: {message}"


def key_path(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the YAML node at ``loc`` (the nearest one that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            key, node = match
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
