"""The inputs of a failed package that do not parse as what their file says they are.

Asked "load config/ingress.yaml as YAML and tell me the ingress host" over a file indented
wrongly, the package failed three times with ``ParserError: while parsing a block mapping (line
4)``, and the answer listed those attempts: a person reads a Python exception, not "the file is
not valid YAML" (bench.quality wide broken-ingress). When a package fails, dagbot parses each
input read from a ``.json``, ``.yaml``/``.yml`` or ``.toml`` file itself, and the failure says
plainly which of them is not valid and where: a fact of dagbot's own, not the model's.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Any

import yaml

_KINDS = {"json": "JSON", "yaml": "YAML", "yml": "YAML", "toml": "TOML"}


def unparsed_inputs(inputs: Mapping[str, Any]) -> list[str]:
    """One sentence for each input file that does not parse as its suffix says: ``config/ingress.yaml
    is not valid YAML: expected <block end>, but found '<block mapping start>' (line 5, column 2)``."""
    said = []
    for value in inputs.values():
        if not isinstance(value, Mapping) or not isinstance(value.get("content"), str):
            continue
        path = str(value.get("path") or "")
        kind = _KINDS.get(path.rsplit(".", 1)[-1].lower()) if "." in path else None
        if kind is None or value.get("truncated"):
            continue
        if (why := _why_not(kind, value["content"])) is not None:
            said.append(f"{path} is not valid {kind}: {why}")
    return said


def _why_not(kind: str, text: str) -> str | None:
    try:
        if kind == "JSON":
            json.loads(text)
        elif kind == "TOML":
            tomllib.loads(text)
        else:
            list(yaml.safe_load_all(text))
    except json.JSONDecodeError as exc:
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    except tomllib.TOMLDecodeError as exc:
        return str(exc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{exc.problem or exc.context or 'not parsed'}{where}"
    except yaml.YAMLError as exc:
        return str(exc).splitlines()[0] if str(exc) else "not parsed"
    return None
