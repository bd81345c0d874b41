"""The Edit modal of an approval: a field per argument, from the tool's JSON schema (pure).

Text arguments are edited as plain text, exactly as typed (spaces and line breaks kept; a
text the schema marks as a document's content, ``contentMediaType``, or one that already has
several lines, in a multi-line box); a true/false argument with two radio buttons; anything
else (numbers, lists, objects) as JSON. Secret arguments are never shown: their field starts
empty and keeps the value unless something is typed (in the one JSON field of a tool whose
schema lists no arguments, they are left out, and kept unless the typed object gives them).
What comes back is checked against the schema by the caller, and problems are shown next to
their field (``response_action: errors``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.ports.stores import Approval
from bot.ground.action_ids import EDIT_CALLBACK, EDIT_VALUE_ACTION
from bot.ground.blocks import clip, plain, section
from bot.views import wording as say
from bot.views.approval_view import MODAL_TITLE_LIMIT, PRIVATE_METADATA_LIMIT

ARG_BLOCK = "arg:"
INPUT_LIMIT = 3000
"""Slack's limit for one plain-text input."""
WHOLE = "*"
"""The one field of a tool whose schema lists no arguments: all of them as a JSON object."""


class TooLongToEdit(ValueError):
    """An argument's text is longer than a Slack input holds."""


@dataclass(frozen=True)
class EditTarget:
    """What the modal edits: an approval's tool schema and which arguments are secret."""

    schema: dict[str, Any]
    secret: frozenset[str]


def _properties(target: EditTarget, args: Mapping[str, Any]) -> list[str]:
    props = list(target.schema.get("properties", {}))
    return [*props, *(k for k in args if k not in props)] if props else [WHOLE]


def _types(prop: Mapping[str, Any]) -> set[Any]:
    return {prop.get("type")} if "type" in prop else {o.get("type") for o in prop.get("anyOf", [])}


def is_text(prop: Mapping[str, Any]) -> bool:
    """The argument is a string (or an optional one): edited as plain text, not JSON."""
    types = _types(prop)
    return "string" in types and types <= {"string", "null"}


def is_flag(prop: Mapping[str, Any]) -> bool:
    """The argument is true or false (or an optional one): chosen with radio buttons."""
    types = _types(prop)
    return "boolean" in types and types <= {"boolean", "null"}


def is_document(prop: Mapping[str, Any]) -> bool:
    """The schema says the text is a document's content (``contentMediaType``, as a file's or a
    mail's body): a multi-line box, even while it is empty or one line."""
    return any("contentMediaType" in option for option in (prop, *prop.get("anyOf", [])))


def _flag_option(value: bool) -> dict[str, Any]:
    word = "true" if value else "false"
    return {"text": plain(word, 75), "value": word}


def _as_text(value: Any, text: bool) -> str:
    if value is None:
        return ""
    if text and isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2 if isinstance(value, dict | list) else None)


def _hidden(args: Mapping[str, Any], target: EditTarget) -> list[str]:
    return [name for name in args if name in target.secret]


def _shown_whole(args: Mapping[str, Any], target: EditTarget) -> dict[str, Any]:
    """What the one JSON field shows: every argument but the secret ones."""
    return {name: value for name, value in args.items() if name not in target.secret}


def edit_modal(approval: Approval, target: EditTarget, metadata: str) -> dict[str, Any]:
    if len(metadata) > PRIVATE_METADATA_LIMIT:
        raise ValueError("modal metadata too long")
    args = approval.approved_args
    props = target.schema.get("properties", {})
    required = set(target.schema.get("required", []))
    blocks: list[dict[str, Any]] = [section(say.edit_modal_intro(approval.tool, approval.node_id))]
    for name in _properties(target, args):
        prop = props.get(name, {})
        secret = name in target.secret
        value = _shown_whole(args, target) if name == WHOLE else args.get(name)
        element: dict[str, Any]
        if name != WHOLE and not secret and is_flag(prop) and isinstance(value, bool | None):
            element = {"type": "radio_buttons", "action_id": EDIT_VALUE_ACTION,
                       "options": [_flag_option(True), _flag_option(False)]}
            if value is not None:
                element["initial_option"] = _flag_option(value)
            text = "true" if value else ""
        else:
            text = "" if secret else _as_text(value, is_text(prop))
            if len(text) > INPUT_LIMIT:
                raise TooLongToEdit(name)
            element = {"type": "plain_text_input", "action_id": EDIT_VALUE_ACTION,
                       "multiline": "\n" in text or len(text) > 60 or not is_text(prop) or is_document(prop),
                       "max_length": INPUT_LIMIT}
            if text:
                element["initial_value"] = text
            if secret:
                element["placeholder"] = plain(say.SECRET_PLACEHOLDER, 150)
        hint = prop.get("description") or (say.secrets_kept(_hidden(args, target)) if name == WHOLE
                                           else "" if is_text(prop) or is_flag(prop) else say.JSON_HINT)
        block: dict[str, Any] = {
            "type": "input", "block_id": f"{ARG_BLOCK}{name}", "element": element,
            "label": plain("arguments (JSON)" if name == WHOLE else name, 2000),
            # Slack submits no empty required field: an empty text stays submittable
            "optional": secret or name not in required or (not text and is_text(prop)),
        }
        if hint:
            block["hint"] = plain(clip(str(hint), 2000), 2000)
        blocks.append(block)
    return {
        "type": "modal", "callback_id": EDIT_CALLBACK, "private_metadata": metadata,
        "title": plain(say.EDIT_MODAL_TITLE, MODAL_TITLE_LIMIT),
        "submit": plain(say.EDIT_MODAL_SUBMIT, MODAL_TITLE_LIMIT),
        "close": plain(say.EDIT_MODAL_CLOSE, MODAL_TITLE_LIMIT),
        "blocks": blocks,
    }


class NotJson(ValueError):
    """Text Python's json module reads but JSON has no such value for (NaN, Infinity)."""


def _no_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson("a number is too large to be finite")  # (not the text: it may be a secret)
    return value


def loads(text: str) -> Any:
    """Strict JSON: no NaN or Infinity (nor numbers too large to be finite), which Python's
    json module accepts but the stores' JSON columns, and JSON itself, do not."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def args_from(view: Mapping[str, Any], approval: Approval, target: EditTarget
              ) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments typed into the modal, and problems by block id (JSON that does not
    parse). Text is taken as typed, spaces and line breaks too. Empty fields are left out
    (an empty text the tool requires is the empty text), except secret ones, which keep
    their value."""
    values = view.get("state", {}).get("values", {})
    props = target.schema.get("properties", {})
    required = set(target.schema.get("required", []))
    current = approval.approved_args
    args: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in _properties(target, current):
        block = f"{ARG_BLOCK}{name}"
        state = values.get(block, {}).get(EDIT_VALUE_ACTION, {})
        if state.get("type") == "radio_buttons":
            chosen = (state.get("selected_option") or {}).get("value")
            if chosen in ("true", "false"):
                args[name] = chosen == "true"
            continue
        raw = state.get("value")
        text = raw if isinstance(raw, str) else ""
        blank = not text.strip()
        if name != WHOLE and is_text(props.get(name, {})) and not (blank and name in target.secret):
            if text or name in required:
                args[name] = text
            continue
        if blank:
            continue
        try:
            value = loads(text)
        except json.JSONDecodeError as exc:
            errors[block] = say.not_json(exc.msg)
            continue
        except NotJson as exc:
            errors[block] = say.not_json(str(exc))
            continue
        if name == WHOLE:
            if not isinstance(value, dict):
                errors[block] = say.NOT_AN_OBJECT
            else:
                args.update(value)
        else:
            args[name] = value
    for name in _hidden(current, target):  # not typed: it keeps its value
        args.setdefault(name, current[name])
    return args, errors


def field_errors(problems: Mapping[str, str], target: EditTarget) -> dict[str, str]:
    """Schema problems (argument name → message) as errors by block id."""
    names = _properties(target, {})
    errors: dict[str, str] = {}
    for name, message in problems.items():
        block = f"{ARG_BLOCK}{name if name in names else names[0]}"  # (the whole: the first field)
        errors[block] = clip(f"{errors[block]}; {message}" if block in errors else message, 2000)
    return errors
