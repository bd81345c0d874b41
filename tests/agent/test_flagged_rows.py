"""The rows a yes/no field the request names marks, shown to the joiner beside the results
(agent/model/flagged_rows.py)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.model.flagged_rows import flagged_rows, flagged_rows_section
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once
from tests.fakes.tools import files_registry

RULES = """\
groups:
  - name: checkout
    rules:
      - uid: chk-p99
        title: Checkout p99 latency above 800 ms
        isPaused: false
      - uid: chk-5xx
        title: Checkout 5xx ratio above 2%
        isPaused: false
  - name: platform
    rules:
      - uid: pod-restarts
        title: Pod restarts above 5 in 1h
        isPaused: true
      - uid: backup-age
        title: Last good backup older than 26h
        isPaused: false
"""
USERS = "login,team,mfa\nasilva,platform,yes\nbkim,platform,no\ncdiaz,data,yes\n"
PATH = "grafana/alert-rules.yaml"


def reading(path: str, content: str) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = {"nodes": [{"id": "read", "tool": "read_file", "args": {"path": path}}]}
    return plan, {"read": {"status": "done", "output": {"path": path, "content": content}}}


def test_the_rows_a_yes_no_field_the_request_names_marks_are_one_table_per_place_in_the_file() -> None:
    plan, results = reading(PATH, RULES)
    [paused] = flagged_rows(f"which rules in {PATH} are paused?", plan, results)
    assert (paused.table, paused.column, paused.marked, paused.of) == ("groups.rules", "isPaused", True, 4)
    assert [row["uid"] for row in paused.rows] == ["pod-restarts"]
    assert flagged_rows_section(f"which rules in {PATH} are paused?", plan, results) == (
        "## Rows of the results marked as the request asks (each as the file has it)\n"
        f"- {PATH} (groups.rules): isPaused is true in 1 of its 4 rows:\n"
        "  - uid: pod-restarts, title: Pod restarts above 5 in 1h")


@pytest.mark.parametrize(("ask", "logins"), [
    ("Which users in access/users.csv have MFA turned off?", ["bkim"]),
    ("Which users in access/users.csv have no mfa?", ["bkim"]),
    ("Which users in access/users.csv have mfa?", ["asilva", "cdiaz"]),
])
def test_a_field_said_negated_marks_its_false_rows(ask: str, logins: list[str]) -> None:
    plan, results = reading("access/users.csv", USERS)
    [flagged] = flagged_rows(ask, plan, results)
    assert [row["login"] for row in flagged.rows] == logins


@pytest.mark.parametrize("ask", [
    f"how many rules in {PATH} are paused?",                 # a count: dagbot computes it
    f"which rules in {PATH} paused after 2026-11-01?",       # a bound beside the field
    f"which rules in {PATH} fire for checkout?",             # no field named
    f"Pause the rules in {PATH}",                            # no question
])
def test_no_rows_when_the_request_asks_more_or_other_than_the_field(ask: str) -> None:
    plan, results = reading(PATH, RULES)
    assert flagged_rows_section(ask, plan, results) == ""


def test_no_rows_once_a_package_computed_the_answer() -> None:
    plan, results = reading(PATH, RULES)
    plan["nodes"].append({"id": "paused", "package": {"goal": "g", "code": "result = 1"}, "depends_on": ["read"]})
    results["paused"] = {"status": "done", "output": ["pod-restarts"]}
    assert flagged_rows(f"which rules in {PATH} are paused?", plan, results) == []


async def test_the_joiner_is_shown_the_marked_rows_before_the_request() -> None:
    """monday nginx-kill-and-paused: every rule of the file was listed as paused."""
    llm = ScriptedChatModel(replies=[{"nodes": [{"id": "rules", "read_file": {"path": PATH}}]},
                                     "pod-restarts is paused."])
    await asked_once(llm, files_registry({PATH: RULES}), "flagged", f"which rules in {PATH} are paused?")
    prompt = str(llm.calls[-1][-1].content)
    assert prompt.index("isPaused is true in 1 of its 4 rows") < prompt.index("## Request")
