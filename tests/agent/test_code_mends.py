"""Package code a small model writes as if it ran on the bot's disk, or in one scope with the
package before it: mended before the plan is checked (agent/plan/code_mends.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import PlanError
from agent.plan.code_mends import joined_packages, opened_inputs_as_text
from agent.plan.edges import dependencies
from agent.plan.format import PackageSpec, PlanNode
from agent.plan.validation import validate_plan
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(files=FileToolConfig(workspace=tmp_path)))
    return registry


def test_a_read_files_path_opened_reads_its_text_instead(registry: ToolRegistry) -> None:
    # bench.quality most-orders: the 1.5B model's package, as it wrote it
    code = ("import csv\nfrom collections import defaultdict\nregions = defaultdict(int)\n"
            "with open(inputs['orders']['path'], newline='') as file:\n"
            "  for row in csv.DictReader(file):\n    regions[row['region']] += int(row['orders'])\n"
            "result = max(regions, key=regions.get)")
    plan = validate_plan({"nodes": [
        {"id": "orders", "tool": "read_file", "args": {"path": "data/orders.csv"}},
        {"id": "top", "package": {"goal": "region with most orders", "code": code}}]}, registry)
    mended = plan.node("top").package.code  # type: ignore[union-attr]
    assert mended == "import io\n" + code.replace("open(inputs['orders']['path'], newline='')",
                                                  "io.StringIO(inputs['orders']['content'])")


@pytest.mark.parametrize("code", [
    "result = open(inputs['orders']['path'], 'rb').read()",  # bytes: not the text
    "open(inputs['orders']['path'], 'w').write('x')\nresult = 1",  # a write: refused as before
    "result = open('/etc/passwd').read()",  # no input's path
    "result = open(inputs['orders']['content']).read()",  # already the text (a wrong use)
])
def test_other_opens_are_left_as_they_are(code: str) -> None:
    assert opened_inputs_as_text(code, {"orders": "content"}) is None


@pytest.mark.parametrize("opened", ["'status.json'", "'./status.json'"])
def test_the_name_of_a_page_a_node_fetched_opened_reads_its_text_instead(
        registry: ToolRegistry, opened: str) -> None:
    # bench.quality average-p99: the 1.5B model's package opened the page's name from its own disk
    code = (f"import json\nwith open({opened}) as f:\n    data = json.load(f)\n"
            "p99s = [s['p99_ms'] for s in data['services']]\nresult = sum(p99s) / len(p99s)")
    plan = validate_plan({"nodes": [
        {"id": "status", "tool": "http_get", "args": {"url": "http://127.0.0.1:8000/status.json"}},
        {"id": "avg", "package": {"goal": "average p99", "code": code}}]}, registry)
    mended = plan.node("avg")
    assert mended.package is not None
    assert mended.package.code == "import io\n" + code.replace(f"open({opened})", "io.StringIO(inputs['status']['text'])")
    assert mended.depends_on == ["status"]


def test_a_name_two_nodes_read_or_none_read_is_still_refused(registry: ToolRegistry) -> None:
    reads = [{"id": "a", "tool": "read_file", "args": {"path": "one/app.log"}},
             {"id": "b", "tool": "read_file", "args": {"path": "two/app.log"}}]
    for opened in ("app.log", "other.log"):
        with pytest.raises(PlanError, match="not on the sandbox's disk"):
            validate_plan({"nodes": [*reads, {"id": "p", "package": {
                "goal": "g", "code": f"result = open('{opened}').read()"}}]}, registry)


def test_a_path_a_node_read_opened_by_its_whole_name_reads_that_node(registry: ToolRegistry) -> None:
    plan = validate_plan({"nodes": [
        {"id": "a", "tool": "read_file", "args": {"path": "one/app.log"}},
        {"id": "b", "tool": "read_file", "args": {"path": "two/app.log"}},
        {"id": "p", "package": {"goal": "g", "code": "result = open('two/app.log').read().count('ERROR')"}}]},
        registry)
    assert plan.node("p").depends_on == ["b"]


def test_a_path_of_a_node_without_text_is_still_refused(registry: ToolRegistry) -> None:
    with pytest.raises(PlanError, match="not on the sandbox's disk"):
        validate_plan({"nodes": [
            {"id": "files", "tool": "list_files", "args": {}},
            {"id": "p", "package": {"goal": "g", "code": "result = open(inputs['files']['path']).read()"}}]},
            registry)


def package(node_id: str, code: str, *depends_on: str) -> PlanNode:
    return PlanNode(id=node_id, package=PackageSpec(goal="g", code=code), depends_on=list(depends_on))


def test_a_package_using_another_packages_names_runs_that_code_first(registry: ToolRegistry) -> None:
    first = ("regions = {}\nfor line in inputs['orders']['content'].splitlines()[1:]:\n"
             "    name, count = line.split(',')\n    regions[name] = int(count)\nresult = regions")
    second = "top = max(regions, key=regions.get)\nresult = top"
    plan = validate_plan({"nodes": [
        {"id": "orders", "tool": "read_file", "args": {"path": "data/orders.csv"}},
        {"id": "by_region", "package": {"goal": "orders per region", "code": first}},
        {"id": "top", "package": {"goal": "the region with most", "code": second}}],
        "answer": "${top} has the most orders."}, registry)
    top = plan.node("top")
    assert top.package is not None and top.package.code == f"{first}\n{second}"
    assert top.depends_on == ["orders"]  # the first package's input, not the package itself
    assert plan.node("by_region").package.code == first  # type: ignore[union-attr]


def test_the_result_of_the_one_other_package_read_as_a_name_is_joined_too() -> None:
    # bench.quality most-orders, another run: the second package went on from the first's result
    first = package("counts", "result = {'north': 120, 'east': 210}")
    second = package("top", "top = max(result, key=result.get)")
    assert joined_packages([first, second], dependencies)[1].package == PackageSpec(
        goal="g", code="result = {'north': 120, 'east': 210}\ntop = max(result, key=result.get)")


def test_a_result_read_before_it_is_set_is_the_one_other_package_s_result() -> None:
    # dev longest-pipeline: the totals in one package, then result = max(result.items(), …)
    first = package("totals", "result = {'api': 2218.0, 'web': 1967.0}")
    second = package("longest", "result = max(result.items(), key=lambda x: x[1])")
    assert joined_packages([first, second], dependencies)[1].package == PackageSpec(
        goal="g", code="result = {'api': 2218.0, 'web': 1967.0}\nresult = max(result.items(), key=lambda x: x[1])")


def test_a_result_set_by_the_one_other_package_whose_code_does_not_parse_is_joined_too() -> None:
    # dev longest-pipeline, another run: the totals' comprehension had a stray brace, so its
    # names were unknown and the second package failed alone; joined, reflexion mends one script
    broken = "rows = csv.DictReader(text)\nresult = {r['p']: float(r['s']) for r in rows} for r in rows}"
    second = "result = max(result.items(), key=lambda x: x[1])"
    joined = joined_packages([package("totals", broken), package("longest", second)], dependencies)
    assert joined[1].package == PackageSpec(goal="g", code=f"{broken}\n{second}")
    reply = package("answer", "result = result[0][0]")  # goes on from a result: no source of one
    assert joined_packages([package("totals", broken), package("longest", second), reply],
                           dependencies)[1].package == PackageSpec(goal="g", code=f"{broken}\n{second}")
    indented = package("totals", "if True:\n    result = {'api': 1\nx = (")  # set in a block only
    assert joined_packages([indented, package("longest", second)], dependencies)[1].package.code == second  # type: ignore[union-attr]


def test_names_defined_by_two_packages_or_by_one_that_waits_are_not_joined() -> None:
    user = package("user", "result = total * 2")
    twice = [package("a", "total = 1\nresult = total"), package("b", "total = 2\nresult = total"), user]
    assert joined_packages(twice, dependencies) == twice
    waiting = [package("a", "total = inputs['user']\nresult = total", "user"), user]
    assert joined_packages(waiting, dependencies) == waiting  # joined, 'user' would wait for itself
    missing = [package("a", "count = 1\nresult = count"), user]
    assert joined_packages(missing, dependencies) == missing  # nobody defines 'total'
