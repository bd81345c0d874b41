"""The plans shown to people (the README, docs/plan-format.md) and to the planner (its examples) are valid plans
for the built-in tools, with the edges they are said to have."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.model.prompting import closest_examples, example_blocks, examples_for, prompt_text
from agent.plan.validation import validate_plan
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.email import SmtpConfig
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry
from infra.tools.file_query import FileQueryConfig, register_file_query

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(files=FileToolConfig(workspace=tmp_path),
                                                       smtp=SmtpConfig(host="127.0.0.1", port=2525)))
    register_file_query(registry, FileQueryConfig(workspace=tmp_path))
    return registry


def documented_plan(page: str) -> dict[str, object]:
    section = (ROOT / page).read_text().split("# The plan format", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert block, f"{page}'s plan format section shows a plan"
    plan: dict[str, object] = json.loads(block.group(1))
    return plan


def prompt_example_plans(name: str = "planner_examples.md") -> list[dict[str, object]]:
    lines = prompt_text(name).splitlines()
    plans, buffer = [], ""
    for line in lines:
        if line.startswith('"') or not line.strip():  # a request, or the gap between examples
            if buffer:
                plans.append(json.loads(buffer))
            buffer = ""
        else:
            buffer += line
    if buffer:
        plans.append(json.loads(buffer))
    return plans


def test_the_documented_plan_is_valid_and_its_package_depends_on_what_it_reads(registry: ToolRegistry) -> None:
    plan = validate_plan(documented_plan("docs/plan-format.md"), registry)
    assert plan.node("digest").depends_on == ["arxiv", "issues"]  # from inputs['…'] in its code
    assert plan.node("mail").depends_on == ["digest"]


def test_the_readme_plan_is_valid_with_the_edges_it_implies(registry: ToolRegistry) -> None:
    plan = validate_plan(documented_plan("README.md"), registry)
    assert plan.node("errors").depends_on == ["log"]  # from inputs['log'] in its code
    assert plan.node("mail").depends_on == ["errors"]  # from ${errors} in its body
    assert plan.node("health").depends_on == []


def test_the_planner_examples_are_valid_plans(registry: ToolRegistry) -> None:
    plans = [validate_plan(raw, registry) for raw in prompt_example_plans()]
    assert len(plans) == 5
    assert [n.tool for n in plans[2].nodes] == ["read_file"] and not plans[2].answer  # a stated value
    assert plans[3].node("save").depends_on == ["tickets"]  # the red write is a node of its own
    assert plans[4].nodes == [] and plans[4].answer  # nothing can do it: said so, no node
    chosen = [validate_plan(raw, registry) for raw in prompt_example_plans("planner_examples_by_request.md")]
    assert len(chosen) == 9
    assert chosen[0].node("warn").depends_on == ["log"]  # the read before it, from inputs['log']
    assert all(p.nodes[-1].package for p in chosen[:-1])  # computed in a package over a read
    assert [n.tool for n in chosen[-1].nodes] == ["query_file"]  # a sum over a CSV: one query


def test_the_planner_is_shown_only_examples_of_tools_it_has(registry: ToolRegistry) -> None:
    assert examples_for(registry) == prompt_text("planner_examples.md").strip() + "\n"
    shown = examples_for(registry.without({"http_get"}))
    assert '"read_file": {' in shown and "http_get" not in shown
    assert "Save the open tickets" not in shown  # the request goes with its plan
    assert shown.count("\n\n") == len(prompt_example_plans()) - 3  # two examples left out
    asked = "Which team closed the most tickets in data/tickets.csv?"
    assert "query_file" in examples_for(registry, asked)
    assert "query_file" not in examples_for(registry.without({"query_file"}), asked)


@pytest.mark.parametrize(("request_", "closest"), [
    ("What is the total of the cost column in data/cloud.csv?", "What is the total of the amount column"),
    ("Count the ERROR lines in logs/api.log", "How many WARN lines are in"),
    ("What's the average build time in builds.csv?", "What is the average latency_ms"),
    ("What percentage of the deploys in deploys.csv succeeded?", "What percentage of the jobs"),
    ("Which region has the most sales in data/sales.csv?", "Which user has the most logins"),
    ("How many INFO lines does each module have in logs/api.log?", "How many WARN lines does each worker"),
])
def test_the_examples_closest_to_a_request_come_last(registry: ToolRegistry, request_: str,
                                                      closest: str) -> None:
    shown = examples_for(registry.without({"query_file"}), request_)
    always = examples_for(registry.without({"query_file"}))
    assert shown.startswith(always.rstrip("\n"))  # every request is shown the same first examples
    assert shown.rstrip("\n").rsplit("\n\n", 1)[1].startswith(f'"{closest}')


def test_no_example_is_chosen_by_a_file_name_or_extension_alone(registry: ToolRegistry) -> None:
    pool = example_blocks("planner_examples_by_request.md", registry)
    assert closest_examples(pool, "Show me logs/web.log") == []  # the count example's file, nothing to count
    assert closest_examples(pool, "Which cluster does queue/data.json describe?") == []
    assert closest_examples(pool, "Restart the checkout service") == []
    assert closest_examples(pool, "Mail the notes to team@example.com") == []  # an address says who, not what
    assert len(closest_examples(pool, "How many orders are in total in data/payments.csv?")) == 2
    # a compound is one word: a one-line summary counts no lines (tuning mail-status became a line count)
    assert closest_examples(pool, "Email a one-line summary of status.json to team@example.com") == []
    assert closest_examples(pool, "How many lines does status.json have?") != []


def test_a_huge_request_is_matched_by_its_start_in_one_pass(registry: ToolRegistry) -> None:
    pool = example_blocks("planner_examples_by_request.md", registry)
    huge = "What is the total of the amount column in " + "data/" * 20_000 + "x.csv?"
    assert len(closest_examples(pool, huge)) == 1  # (a regex that backtracks would hang here)
    assert closest_examples(pool, "a.b" * 30_000) == []


def test_an_example_of_a_shape_the_request_does_not_ask_for_is_not_shown(registry: ToolRegistry) -> None:
    """A count per group, copied for a plain count, groups what was to be counted: an example
    whose request says its shape (each, average, percentage, total, most) is shown only to a
    request that says it too."""
    pool = example_blocks("planner_examples_by_request.md", registry.without({"query_file"}))
    plain = closest_examples(pool, "How many ERROR lines are in logs/app.log?")
    assert plain and not any("each worker" in block for block in plain)
    grouped = closest_examples(pool, "How many ERROR lines are there per service in logs/app.log?")
    assert "each worker" in grouped[-1]
    summed = closest_examples(pool, "What is the total latency_ms in data/requests.csv?")
    assert not any("average latency_ms" in block for block in summed)
    assert "total of the amount column" in summed[-1]
