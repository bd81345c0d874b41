"""Rows of a read table and settings of a read configuration file that the request names: shown
to the joiner, and an answer that gives another cell of a named row set right
(agent/model/named_rows.py, agent/model/named_keys.py)."""

from __future__ import annotations

from typing import Any

from agent.events import AnswerReady
from agent.model.named_keys import named_keys, named_keys_section
from agent.model.named_rows import asked_cell, corrected, misread_cells, named_rows, named_rows_section
from agent.tools.registry import ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once
from tests.fakes.tools import files_registry

ROTATION = """\
rotation: platform-primary
weeks:
  - week: 2026-W48
    primary: farah
    secondary: jonas
  - week: 2026-W49
    primary: jonas
    secondary: keiko
  - week: 2026-W50
    primary: keiko
    secondary: farah
"""
ASK = "Who is the secondary in week 2026-W50 in ops/rotation.yaml?"
PLAN = {"nodes": [{"id": "rotation", "tool": "read_file", "args": {"path": "ops/rotation.yaml"}}]}


def read(path: str, content: str, node: str = "rotation") -> dict[str, Any]:
    return {node: {"status": "done", "output": {"path": path, "content": content}}}


def test_the_row_a_request_names_by_a_value_and_the_cell_it_asks() -> None:
    [row] = named_rows(ASK, PLAN, read("ops/rotation.yaml", ROTATION))
    assert (row.table, row.named_by, dict(row.row)) == \
        ("weeks", "week", {"week": "2026-W50", "primary": "keiko", "secondary": "farah"})
    cell = asked_cell(ASK, [row])
    assert cell is not None and (cell.column, cell.value) == ("secondary", "farah")
    section = named_rows_section(ASK, PLAN, read("ops/rotation.yaml", ROTATION))
    assert "- ops/rotation.yaml (weeks): week: 2026-W50, primary: keiko, secondary: farah" in section
    assert "- In ops/rotation.yaml, the secondary of the row whose week is 2026-W50 is farah." in section
    # a column the request does not name, or two: no one cell is asked
    assert asked_cell("What about week 2026-W50 in ops/rotation.yaml?", [row]) is None
    assert asked_cell("Who is primary and secondary in 2026-W50?", [row]) is None


def test_csv_and_json_lines_rows_are_named_and_a_value_many_rows_share_names_none() -> None:
    hosts = "hostname,ram_gb,free_disk_gb,role\nweb-1,16,42.5,frontend\nweb-2,16,8.25,frontend\n" \
            "db-1,96,310,database\nqueue-1,24,61,frontend\n"
    plan = {"nodes": [{"id": "hosts", "tool": "read_file", "args": {"path": "inventory/hosts.csv"}}]}
    results = read("inventory/hosts.csv", hosts, "hosts")
    [row] = named_rows("How much free disk does web-2 have?", plan, results)
    cell = asked_cell("How much free disk does web-2 have?", [row])
    assert cell is not None and (cell.column, cell.value) == ("free_disk_gb", "8.25")
    assert named_rows("Which frontend hosts have little free disk?", plan, results) == []  # most rows'
    assert named_rows("Which hosts have 16 GB of RAM?", plan, results) == []  # "16": too short to name one
    lines = '{"user": "ana", "action": "login"}\n{"user": "bruno", "action": "logout"}\n' \
            '{"user": "cy", "action": "login"}\n'
    audit = {"nodes": [{"id": "audit", "tool": "read_file", "args": {"path": "logs/audit.jsonl"}}]}
    [row] = named_rows("What did bruno do?", audit, read("logs/audit.jsonl", lines, "audit"))
    assert dict(row.row) == {"user": "bruno", "action": "logout"}
    # a read that failed, a file that does not parse, or a table of two rows: nothing named
    failed = {"rotation": {"status": "failed", "error": "not found"}}
    assert named_rows(ASK, PLAN, failed) == []
    assert named_rows(ASK, PLAN, read("ops/rotation.yaml", "weeks: [week: 2026-W50")) == []
    assert named_rows(ASK, PLAN, read("ops/rotation.yaml", ROTATION.split("  - week: 2026-W49")[0])) == []


def test_an_answer_that_gives_another_cell_of_the_named_row_is_set_right() -> None:
    results = read("ops/rotation.yaml", ROTATION)
    wrong = "- The secondary in week 2026-W50 is keiko.\n- The bounce address is bounces@example.com."
    cell = misread_cells(wrong, ASK, PLAN, results)
    assert cell is not None
    assert corrected(wrong, cell) == \
        "- The secondary in week 2026-W50 is farah.\n- The bounce address is bounces@example.com."
    assert misread_cells("The secondary in week 2026-W50 is farah.", ASK, PLAN, results) is None
    assert misread_cells("I could not tell.", ASK, PLAN, results) is None  # no cell of the row stated
    # no line names the row or the column: dagbot says the cell beneath, and what was said instead
    assert corrected("It is keiko.", cell) == ("It is keiko.\n\n_Checked against the file: in ops/rotation.yaml, "
                                               "the secondary of the row whose week is 2026-W50 is farah, not keiko._")


def rotation_registry() -> ToolRegistry:
    return files_registry(ROTATION)


async def test_the_joiner_is_shown_the_named_row_and_its_misread_answer_is_set_right() -> None:
    """wide w50-and-bounce: the joiner gave keiko, the week's primary, for its secondary."""
    llm = ScriptedChatModel(replies=[{"nodes": [{"id": "rotation", "read_file": {"path": "ops/rotation.yaml"}}]},
                                     "The secondary in week 2026-W50 is keiko."])
    events = await asked_once(llm, rotation_registry(), "rows", ASK)
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert answer == "The secondary in week 2026-W50 is farah."
    prompt = str(llm.calls[-1][-1].content)
    assert prompt.index("the secondary of the row whose week is 2026-W50 is farah") < prompt.index("## Request")


MANIFEST = """\
name: public-api
replicas: 6
resources:
  limits:
    cpu: "2"
    memory: 3Gi
  requests:
    cpu: 500m
    memory: 1Gi
"""
MAILER = "; relay\n[relay]\nhost = smtp-relay.internal\nport = 2525\n\n[bounce]\naddress = bounces@example.com\n"


def test_the_settings_a_request_names_are_shown_under_their_whole_keys() -> None:
    plan = {"nodes": [{"id": "api", "tool": "read_file", "args": {"path": "deploy/api.yaml"}},
                      {"id": "mail", "tool": "read_file", "args": {"path": "config/mailer.ini"}}]}
    results = {**read("deploy/api.yaml", MANIFEST, "api"), **read("config/mailer.ini", MAILER, "mail")}
    ask = "How much memory may public-api use, and which port does the relay in config/mailer.ini use?"
    assert named_keys(ask, plan, results) == [
        ("deploy/api.yaml", "resources.limits.memory", "3Gi"),
        ("deploy/api.yaml", "resources.requests.memory", "1Gi"),
        ("config/mailer.ini", "relay.port", "2525")]
    assert named_keys_section("Which bounce address is set?", plan, results) == (
        "## Settings of the results the request names (each under its whole key)\n"
        "- config/mailer.ini: bounce.address = bounces@example.com")
    assert named_keys_section("Is the mailer healthy?", plan, results) == ""
    env = {"nodes": [{"id": "env", "tool": "read_file", "args": {"path": "app/.env"}}]}
    assert named_keys("Which log level is set?", env, read("app/.env", "# app\nLOG_LEVEL=debug\nPORT=80\n", "env")) \
        == [("app/.env", "LOG_LEVEL", "debug")]
    # the one whose whole key the request names most of (tuesday worker-memory-limit: the worker's request answered)
    helm = ("api:\n  resources:\n    requests: {memory: 512Mi}\n    limits: {memory: 1Gi}\n"
            "worker:\n  resources:\n    requests: {memory: 1536Mi}\n    limits: {memory: 3Gi}\n")
    values = {"nodes": [{"id": "v", "tool": "read_file", "args": {"path": "helm/values.yaml"}}]}
    assert named_keys("what's the memory limit on the worker pods?", values, read("helm/values.yaml", helm, "v")) \
        == [("helm/values.yaml", "worker.resources.limits.memory", "3Gi")]
    assert len(named_keys("the memory limits of api and worker?", values, read("helm/values.yaml", helm, "v"))) == 4
    broken = read("deploy/api.yaml", "resources: [memory: 3Gi", "api")
    assert named_keys("How much memory?", plan, broken) == []


BACKUPS = """\
{"backups": [
  {"id": "b-101", "database": "orders", "size_gb": 12.75, "duration_s": 410},
  {"id": "b-102", "database": "billing", "size_gb": 3.4, "duration_s": 95},
  {"id": "b-103", "database": "users", "size_gb": 1.85, "duration_s": 60},
  {"id": "b-104", "database": "orders", "size_gb": 12.9, "duration_s": 425},
  {"id": "b-105", "database": "search", "size_gb": 7.05, "duration_s": 300}
]}
"""


def test_the_row_named_by_most_values_and_a_follow_ups_row_from_the_answer_before() -> None:
    plan = {"nodes": [{"id": "backups", "tool": "read_file", "args": {"path": "data/backups.json"}}]}
    results = read("data/backups.json", BACKUPS, "backups")
    [row] = named_rows("How big was the orders backup b-104?", plan, results)  # not b-101 of orders too
    assert row.row["id"] == "b-104"
    assert len(named_rows("How big were the orders backups?", plan, results)) == 2
    section = named_rows_section("How big was it?", plan, results, "The longest backup was b-104 (425 s).")
    assert "size_gb: 12.9" in section and "b-101" not in section
    assert named_rows_section("How big was it?", plan, results) == ""


def test_a_number_written_otherwise_is_stated_and_only_a_cell_of_the_asked_kind_is_a_misread() -> None:
    plan = {"nodes": [{"id": "backups", "tool": "read_file", "args": {"path": "data/backups.json"}}]}
    results = read("data/backups.json", BACKUPS, "backups")
    ask = "What is the size of backup b-104?"
    assert misread_cells("The orders backup b-104 is 12.90 GB.", ask, plan, results) is None
    assert misread_cells("Backup b-104 (orders) holds 1,290 MB.", ask, plan, results) is None  # a name: no number
    misread = misread_cells("Backup b-104 of orders: 425 GB.", ask, plan, results)
    assert misread is not None and misread.given == ("425",)
    assert corrected("Backup b-104 of orders: 425 GB.", misread) == "Backup b-104 of orders: 12.9 GB."



def test_a_yaml_file_of_aliases_of_aliases_is_walked_once_per_node() -> None:
    """Each alias shares its node: walked naively, nine levels of nine aliases are 9**9 visits."""
    levels = ["a0: &a0 [{week: 2026-W50, secondary: farah}, {week: x1}, {week: x2}]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    bomb = "\n".join(levels) + "\n"
    plan = {"nodes": [{"id": "bomb", "tool": "read_file", "args": {"path": "ops/bomb.yaml"}}]}
    assert len(named_rows("Who is the secondary in 2026-W50?", plan, read("ops/bomb.yaml", bomb, "bomb"))) == 1
    assert named_keys("Which a9 is set?", plan, read("ops/bomb.yaml", bomb, "bomb")) == []


INCIDENTS = """{"incidents": [
  {"incident_number": 4807, "status": "resolved", "assignee": {"name": "Maja Lindgren", "email": "maja@example.net"}},
  {"incident_number": 4808, "status": "acknowledged", "assignee": {"name": "Ren Takahashi", "email": "ren@example.net"}},
  {"incident_number": 4809, "status": "resolved", "assignee": {"name": "Maja Lindgren", "email": "maja@example.net"}},
  {"incident_number": 4813, "status": "acknowledged", "assignee": {"name": "Ren Takahashi", "email": "ren@example.net"}}
]}"""
ASSIGNED = "who is incident 4813 assigned to in oncall/incidents.json?"
INCIDENTS_PLAN = {"nodes": [{"id": "pd", "tool": "read_file", "args": {"path": "oncall/incidents.json"}}]}


def test_an_objects_fields_are_cells_and_the_one_asked_by_a_verb_is_its_name() -> None:
    """weekend serial-and-assignee: the assignee was an object, left out of the row shown, and
    "assigned" named no column; the joiner gave another incident's assignee."""
    results = read("oncall/incidents.json", INCIDENTS, "pd")
    [row] = named_rows(ASSIGNED, INCIDENTS_PLAN, results)
    assert row.row["assignee.name"] == "Ren Takahashi" and row.row["assignee.email"] == "ren@example.net"
    asked = asked_cell(ASSIGNED, [row])
    assert asked is not None and asked.column == "assignee.name" and asked.value == "Ren Takahashi"
    assert "assignee.name of the row whose incident_number is 4813 is Ren Takahashi" in named_rows_section(
        ASSIGNED, INCIDENTS_PLAN, results)


def test_an_answer_giving_the_asked_columns_value_of_another_row_is_set_right() -> None:
    results = read("oncall/incidents.json", INCIDENTS, "pd")
    answer = "The serial is 2026112801. Incident 4813 is assigned to Maja Lindgren."
    misread = misread_cells(answer, ASSIGNED, INCIDENTS_PLAN, results)
    assert misread is not None and misread.given == ("Maja Lindgren",)
    assert corrected(answer, misread) == "The serial is 2026112801. Incident 4813 is assigned to Ren Takahashi."
    assert misread_cells("Incident 4813 is assigned to Ren Takahashi.", ASSIGNED, INCIDENTS_PLAN, results) is None
    # a name the request itself says is no misread of it
    assert misread_cells("Maja Lindgren asked; it is not hers.", "Is incident 4813 assigned to Maja Lindgren, "
                         "in oncall/incidents.json?", INCIDENTS_PLAN, results) is None


def test_a_column_the_request_names_as_written_wins_over_one_named_by_its_stem() -> None:
    """Review: "restart" named `restarts` by its stem beside `status`, and no cell was asked."""
    rows = "[" + ",".join(f'{{"service": "svc-{i}", "status": "ok", "restarts": {i}}}' for i in range(4)) + "]"
    plan = {"nodes": [{"id": "s", "tool": "read_file", "args": {"path": "ops/services.json"}}]}
    ask = "restart svc-2 if its status is degraded, per ops/services.json"
    asked = asked_cell(ask, named_rows(ask, plan, read("ops/services.json", rows, "s")))
    assert asked is not None and asked.column == "status"
