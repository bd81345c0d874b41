"""A value filled in with its own unit takes the place of the unit word a text puts after its
reference (agent/plan/references.py): "${total} bytes" over dagbot's ``19.3 GiB`` is "19.3 GiB",
not "19.3 GiB bytes"; a value with no unit keeps the text's word."""

from __future__ import annotations

import pytest

from agent.plan.references import fill_text, resolve

OUTPUTS = {"total": "19.3 GiB", "took": {"max": "7082 s"}, "count": 19.3, "name": "pg-users"}


@pytest.mark.parametrize(("text", "filled"), [
    ("The pg-users backups add up to ${total} bytes.", "The pg-users backups add up to 19.3 GiB."),
    ("It took ${took.max} seconds", "It took 7082 s"),
    ("${total} GB in all", "19.3 GiB in all"),
    ("A total of ${count} bytes.", "A total of 19.3 bytes."),  # no unit of its own: the text's stays
    ("${name} B-side", "pg-users B-side"),  # not a number: the word stays
    ("${total}, bytes aside", "19.3 GiB, bytes aside"),  # not right after the reference
])
def test_a_unit_the_value_carries_replaces_the_texts(text: str, filled: str) -> None:
    assert fill_text(text, OUTPUTS) == filled
    assert resolve(text, OUTPUTS) == filled
    assert resolve("${total}", OUTPUTS) == "19.3 GiB"  # a whole reference is the value itself
