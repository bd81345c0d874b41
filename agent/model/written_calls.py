"""Tool calls a model wrote as text instead of making them.

Small models, and servers whose chat template the model does not follow exactly, often answer
a request to call a tool with the call written out: a ``<tool_call>…</tool_call>`` block (the
Hermes and Qwen format), a fenced JSON block, or a bare JSON object, each naming the tool and
its arguments (``{"name": "replan", "arguments": {…}}``; ``parameters`` or ``args`` also
occur). Posted as it is, that text is an answer only a machine can read. :func:`written_calls`
finds such calls so the caller can treat them as the calls they were meant to be, also one
whose text was cut off by the reply's token limit (a long ``feedback`` for ``replan``) when the
reply is nothing but that call's beginning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pydantic_core

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCED = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.S)
_OPENING = re.compile(r"^(?:<tool_call>|```[a-zA-Z]*)\s*")
_NAME_KEYS = ("name", "tool", "function", "tool_name")
_ARG_KEYS = ("arguments", "parameters", "args", "input")


@dataclass(frozen=True)
class WrittenCall:
    name: str
    args: dict[str, Any]


def _as_call(value: Any) -> WrittenCall | None:
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):  # OpenAI's own shape, written out
        value = value["function"]
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    if not name:
        return None
    args: Any = next((value[k] for k in _ARG_KEYS if k in value), {})
    if isinstance(args, str):  # arguments as a JSON string, as the wire format has them
        try:
            args = json.loads(args)
        except ValueError:
            return None
    if not isinstance(args, dict) or set(value) - {*_NAME_KEYS, *_ARG_KEYS, "id", "type"}:
        return None
    return WrittenCall(name, args)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def written_calls(text: str) -> tuple[list[WrittenCall], str]:
    """The calls written in ``text`` and the text left once they are taken out. Text that only
    mentions JSON (an answer showing a config file, say) is left alone: a block counts only
    when it is a whole call (a name and arguments, nothing else)."""
    calls: list[WrittenCall] = []
    rest = text
    for pattern in (_TAGGED, _FENCED):
        for match in list(pattern.finditer(rest)):
            value = _json(match.group(1).strip())
            found = [c for c in map(_as_call, value if isinstance(value, list) else [value]) if c]
            if found:
                calls += found
                rest = rest.replace(match.group(0), "", 1)
    if not calls:
        value = _json(rest.strip())
        call = _as_call(value) or _cut_off_call(rest)
        if call is not None:
            calls, rest = [call], ""
    return calls, rest.strip()


def _cut_off_call(text: str) -> WrittenCall | None:
    """The call ``text`` begins to write, when it is only that, cut off before its end (an
    opening fence or tag, then a JSON object never closed)."""
    body = _OPENING.sub("", text.strip(), count=1)
    if not body.startswith("{") or _json(body) is not None:
        return None
    try:
        value = pydantic_core.from_json(body, allow_partial="trailing-strings")
    except ValueError:
        return None
    call = _as_call(value)
    return call if call is not None and any(k in value for k in _ARG_KEYS) else None
