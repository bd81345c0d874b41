"""The Edit modal (pure): fields from the schema, text versus JSON, secrets kept, problems by field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.tools import StructuredTool

from agent.ports.stores import Approval, ApprovalStatus
from agent.tools.registry import Risk, ToolRegistry
from bot.views.edit_view import EditTarget, TooLongToEdit, args_from, edit_modal, field_errors


def approval(args: dict[str, Any]) -> Approval:
    return Approval(id="a1", thread_id="t", plan_id="p", node_id="n", tool="t", args=args, args_digest="",
                    why="", status=ApprovalStatus.PENDING, requested_by="U1", requested_at=0, expires_at=0)


def typed(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    return {"state": {"values": {f"arg:{k}": {"value": {"value": v}} for k, v in values.items()}}}


SCHEMA = {"properties": {"to": {"type": "string"}, "count": {"type": "integer"},
                         "tags": {"anyOf": [{"type": "array"}, {"type": "null"}]},
                         "key": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
          "required": ["to", "count"]}
TARGET = EditTarget(SCHEMA, frozenset({"key"}))


def test_fields_follow_the_schema() -> None:
    view = edit_modal(approval({"to": "ops", "count": 2, "tags": ["a"], "key": "k-1"}), TARGET, "{}")
    fields = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(fields) == ["arg:to", "arg:count", "arg:tags", "arg:key"]
    assert fields["arg:to"]["element"]["initial_value"] == "ops" and not fields["arg:to"]["optional"]
    assert fields["arg:tags"]["element"]["initial_value"] == '[\n  "a"\n]' and fields["arg:tags"]["optional"]
    assert "initial_value" not in fields["arg:key"]["element"]


def test_typed_values_become_arguments() -> None:
    original = approval({"to": "ops", "count": 2, "key": "k-1"})
    args, errors = args_from(typed({}, {"to": "a \"b\"", "count": "3", "tags": '["x"]', "key": ""}),
                             original, TARGET)
    assert errors == {} and args == {"to": 'a "b"', "count": 3, "tags": ["x"], "key": "k-1"}
    _, errors = args_from(typed({}, {"to": "x", "count": "three"}), original, TARGET)
    assert list(errors) == ["arg:count"] and "not valid JSON" in errors["arg:count"]
    assert field_errors({"count": "too big", "other": "no"}, TARGET) == {"arg:count": "too big",
                                                                          "arg:to": "no"}


def test_nan_and_infinity_are_not_json() -> None:
    """Python's json module reads them; JSON, and the databases' JSON columns, do not."""
    original = approval({"to": "ops", "count": 2})
    for text in ("NaN", "Infinity", "-Infinity", "1e999", '["a", NaN]'):
        _, errors = args_from(typed({}, {"to": "x", "count": "2", "tags": text}), original, TARGET)
        assert list(errors) == ["arg:tags"] and "not valid JSON" in errors["arg:tags"], text
    bare = EditTarget({}, frozenset())
    _, errors = args_from(typed({}, {"*": '{"a": {"b": NaN}}'}), approval({"a": 1}), bare)
    assert errors == {"arg:*": 'This is not valid JSON (NaN is not a JSON number). Text needs "quotes".'}
    assert args_from(typed({}, {"to": "x", "count": "2", "tags": "[1.5, -2e10]"}), original, TARGET) == \
        ({"to": "x", "count": 2, "tags": [1.5, -2e10]}, {})


def test_a_number_refused_in_a_secret_field_is_not_quoted() -> None:
    pin = EditTarget({"properties": {"pin": {"type": "integer", "writeOnly": True}}}, frozenset({"pin"}))
    _, errors = args_from(typed({}, {"pin": "31415e999"}), approval({"pin": 1}), pin)
    assert errors == {"arg:pin": "This is not valid JSON (a number is too large to be finite). Text needs "
                                 "\"quotes\"."}


def test_a_tool_without_a_schema_gets_one_json_field_and_long_values_are_refused() -> None:
    bare = EditTarget({}, frozenset())
    view = edit_modal(approval({"a": 1}), bare, "{}")
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["arg:*"]
    args, errors = args_from(typed({}, {"*": '{"a": 2}'}), approval({"a": 1}), bare)
    assert (args, errors) == ({"a": 2}, {})
    assert args_from(typed({}, {"*": "[1]"}), approval({"a": 1}), bare)[1] != {}
    with pytest.raises(TooLongToEdit):
        edit_modal(approval({"to": "x" * 3001, "count": 1}), TARGET, "{}")


def test_the_one_json_field_leaves_secret_arguments_out_and_keeps_them() -> None:
    target = EditTarget({}, frozenset({"token"}))
    original = approval({"service": "web", "token": "tok-SECRET-7"})
    view = edit_modal(original, target, "{}")
    assert "tok-SECRET-7" not in json.dumps(view)
    (whole,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert json.loads(whole["element"]["initial_value"]) == {"service": "web"}
    assert "token" in whole["hint"]["text"]
    kept, errors = args_from(typed({}, {"*": '{"service": "api"}'}), original, target)
    assert (kept, errors) == ({"service": "api", "token": "tok-SECRET-7"}, {})
    given, _ = args_from(typed({}, {"*": '{"service": "api", "token": "tok-NEW"}'}), original, target)
    assert given == {"service": "api", "token": "tok-NEW"}


async def restart(**kwargs: Any) -> str:
    return "restarted"


def test_a_tool_with_a_json_schema_dict_gets_a_field_per_argument_its_secret_hidden() -> None:
    schema = {"type": "object", "properties": {"service": {"type": "string"}, "api_token": {"type": "string"}},
              "required": ["service", "api_token"]}
    registry = ToolRegistry()
    registry.add(StructuredTool(name="restart", description="Restart.", args_schema=schema, coroutine=restart),
                 Risk.RED, secret=("api_token",))
    spec = registry.get("restart")
    view = edit_modal(approval({"service": "web", "api_token": "tok-SECRET-7"}),
                      EditTarget(spec.json_schema(), spec.secret_args()), "{}")
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["arg:service", "arg:api_token"]
    assert "tok-SECRET-7" not in json.dumps(view)


WRITE = EditTarget({"properties": {"path": {"type": "string"},
                                   "content": {"type": "string", "contentMediaType": "text/plain"},
                                   "append": {"type": "boolean", "default": False}},
                    "required": ["path", "content"]}, frozenset())


def chosen(values: dict[str, Any]) -> dict[str, Any]:
    """A submission as Slack sends it: text inputs' ``value``, radio buttons' ``selected_option``."""
    state = {f"arg:{k}": {"value": {"type": "radio_buttons", "selected_option": v and {"value": v}}
                          if k == "append" else {"type": "plain_text_input", "value": v}}
             for k, v in values.items()}
    return {"state": {"values": state}}


def test_a_true_or_false_argument_is_chosen_with_radio_buttons() -> None:
    view = edit_modal(approval({"path": "logs/app.log", "content": "", "append": False}), WRITE, "{}")
    fields = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    flag = fields["arg:append"]["element"]
    assert flag["type"] == "radio_buttons" and [o["value"] for o in flag["options"]] == ["true", "false"]
    assert flag["initial_option"] == flag["options"][1] and fields["arg:append"]["optional"]
    original = approval({"path": "logs/app.log", "content": "", "append": False})
    assert args_from(chosen({"path": "a", "content": "x", "append": "true"}), original, WRITE)[0]["append"] is True
    assert args_from(chosen({"path": "a", "content": "x", "append": "false"}), original, WRITE)[0]["append"] is False
    assert "append" not in args_from(chosen({"path": "a", "content": "x", "append": None}), original, WRITE)[0]


def test_a_document_is_a_text_box_and_keeps_what_was_typed() -> None:
    """A file's content is a multi-line box even while it is empty; what is typed is taken as it
    is, its last line break and spaces too; and empty, a required text is the empty text (Slack
    submits no empty required field, so the empty one is optional)."""
    original = approval({"path": "logs/app.log", "content": "", "append": False})
    view = edit_modal(original, WRITE, "{}")
    fields = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert fields["arg:content"]["element"]["multiline"] and fields["arg:content"]["optional"]
    assert not fields["arg:path"]["element"]["multiline"] and not fields["arg:path"]["optional"]
    args, errors = args_from(chosen({"path": "logs/app.log", "content": "rotated\n", "append": "true"}),
                             original, WRITE)
    assert errors == {} and args == {"path": "logs/app.log", "content": "rotated\n", "append": True}
    assert args_from(chosen({"path": "p", "content": "  \n"}), original, WRITE)[0]["content"] == "  \n"
    assert args_from(chosen({"path": "p", "content": None}), original, WRITE)[0] == {"path": "p", "content": ""}
