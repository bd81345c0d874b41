"""What validation tells of package code before it runs (agent/plan/package_code.py)."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import pytest

from agent.plan.code_mends import unfolded_blocks
from agent.plan.package_code import (
    PACKAGE_GLOBALS,
    acts_only_beyond_tools,
    beyond_tools,
    outward_actions,
    package_code_problems,
    parse_python,
    undefined_names,
)
from sandbox.runner import TOOL_ERRORS


def problems(code: str) -> list[str]:
    return package_code_problems(code, ast.parse(code))


def test_the_names_the_sandbox_gives_package_code_are_the_ones_validation_allows() -> None:
    assert {"inputs", "input_files", "tools", "result", *TOOL_ERRORS} == PACKAGE_GLOBALS


@pytest.mark.parametrize("code", [
    "rows = inputs['orders']['content'].splitlines()\nresult = len(rows)",
    "import csv, io\nresult = [r for r in csv.DictReader(io.StringIO(inputs['o']['content']))]",
    "def total(xs):\n    return sum(x * rate for x in xs)\nrate = 2\nresult = total([1, 2])",
    "try:\n    page = tools.http_get(url='u')\nexcept ToolError as exc:\n    page = str(exc)\nresult = page",
    "class Row:\n    size = len(inputs)\nresult = Row.size",
    "def setup():\n    global seen\n    seen = 1\nsetup()\nresult = seen",
    "with open('/scratch/out.txt', 'w') as fh:\n    fh.write('x')\nresult = open('/scratch/out.txt').read()",
    "result = open(input_files['big']).read()",
    "for result in range(3):\n    pass",
    "from math import *\nresult = floor(pi)",
])
def test_code_that_can_work_has_no_problem(code: str) -> None:
    assert problems(code) == []


def test_a_value_of_another_package_read_as_a_name_is_undefined() -> None:
    # as a small model writes a plan: the second package uses the first one's variable
    code = "max_region = max(regions, key=regions.get)\nresult = max_region"
    assert undefined_names(code, ast.parse(code)) == {"regions"}
    [problem] = problems(code)
    assert problem.startswith("uses 'regions', which it never defines") and "inputs['id']" in problem


@pytest.mark.parametrize(("code", "told"), [
    # dev longest-pipeline: the second package meant the first one's result
    ("result = max(result.items(), key=lambda x: x[1])", "reads 'result' on line 1 before it sets it (None then)"),
    ("total += len(inputs['a'])\nresult = total", "reads 'total' on line 1 before it sets it (a NameError then)"),
    ("rows = inputs['a']\nprint(count)\ncount = len(rows)\nresult = count",
     "reads 'count' on line 2 before it sets it (a NameError then)"),
])
def test_a_name_read_before_the_code_sets_it_is_told(code: str, told: str) -> None:
    [problem] = problems(code)
    assert problem.startswith(told + ": a package starts with only its inputs") and "inputs['id']" in problem


@pytest.mark.parametrize("code", [
    "seen = set()\nfor r in inputs['a']:\n    if r in seen:\n        last = r\n    seen.add(r)\nresult = len(seen)",
    "for r in inputs['a']:\n    if r > 1:\n        best = r\n    best = r\nresult = best",  # a loop's later pass
    "key = lambda r: r[field]\nfield = 'a'\nresult = sorted(inputs['a'], key=key)",  # read when it is called
    "result = [x for x in inputs['a'] if (y := x)]\nresult = result + [y]",
    "rows = list(inputs['a'])\nlist = None\nresult = rows",  # a builtin, shadowed later
])
def test_a_name_a_block_or_a_lambda_reads_later_is_not_read_too_early(code: str) -> None:
    assert problems(code) == []


@pytest.mark.parametrize("code", [
    "total = len(inputs['orders']['content'])\nanswer = f'{total} orders'",
    # a result set only inside a function (a 1.5B reflexion model's, never called), or a class
    "def find(rows):\n    result = len(rows)\n    return result\n",
    "class Report:\n    result = 1\n",
])
def test_code_that_never_sets_result_is_told_its_output_would_be_null(code: str) -> None:
    assert problems(code) == ["never sets `result`: its output would be null; assign what it computes to result"]


def test_inputs_written_out_in_the_code_are_made_up() -> None:
    code = "def total(inputs):\n    return len(inputs)\n\ninputs = {'rows': [1]}\nresult = total(inputs)"
    assert problems(code) == ["assigns inputs, which holds the real inputs: read them as they are "
                              "(inputs['x']); inputs written out in the code are made up"]
    assert problems("def total(inputs):\n    return len(inputs)\n\nresult = total(inputs)") == []


@pytest.mark.parametrize(("code", "named"), [
    ("import os\nresult = os.getenv('dagbot_kicked_off')", "os.getenv('dagbot_kicked_off')"),
    ("import os\nresult = os.environ.get('DEPLOYER', 'unknown')", "os.environ.get('DEPLOYER')"),
    ("from os import environ\nresult = environ['USER']", "environ['USER']"),
])
def test_reading_the_sandboxs_environment_is_told_to_read_inputs(code: str, named: str) -> None:
    """monday follow-up-deploy-failer: "who kicked it off?" was a package reading
    ``os.getenv('dagbot_kicked_off')``, and the answer gave its None."""
    assert problems(code) == [f"reads the sandbox's environment ({named}), where no variable of dagbot's, the "
                              "request's or a tool's is set: read values from inputs['id'], the results of "
                              "the nodes it depends on"]
    assert problems("import os\nresult = os.path.basename(inputs['a']['path'])") == []
    # a look at the whole environment is a look at the sandbox (the secrets test's package)
    assert problems("import os\nresult = dict(os.environ)") == []
    assert problems("result = inputs['a'].get('name')") == []


@pytest.mark.parametrize(("code", "named"), [
    ("result = open('deploy.yaml').read()", "'deploy.yaml'"),
    ("with open(inputs['orders']['path']) as fh:\n    result = fh.read()", "inputs['orders']['path']"),
])
def test_opening_a_workspace_file_is_told_to_read_it_with_a_node(code: str, named: str) -> None:
    [problem] = problems(code)
    assert problem.startswith(f"opens {named}, which is not on the sandbox's disk") and "read_file" in problem


@pytest.mark.parametrize(("code", "named"), [
    ("import subprocess\nsubprocess.run(['sudo', 'systemctl', 'restart', 'checkout'])\nresult = 'ok'", "subprocess"),
    ("from socket import create_connection\nresult = create_connection(('db', 5432))", "socket"),
    ("import urllib.request\nresult = urllib.request.urlopen('http://x').read()", "urllib.request"),
    ("import os\nos.system('reboot')\nresult = 1", "os.system"),
    ("import os\nos.execvp('kubectl', ['kubectl'])", "os.execvp"),
])
def test_a_package_meant_to_act_on_the_world_is_told_to_plan_a_tool_or_say_it_cannot(code: str, named: str) -> None:
    [why] = outward_actions(ast.parse(code))
    assert why.startswith(f"uses {named}: a package only computes from its inputs")
    assert "plan a red tool node" in why and "say so in the answer" in why


@pytest.mark.parametrize(("code", "named"), [
    ("import os\nos.remove('logs/app.log')", "os.remove"),  # bench.quality delete-log
    ("import shutil\nshutil.rmtree('logs')\nresult = 'gone'", "shutil.rmtree"),
    ("import os\nos.rename(inputs['f']['path'], 'old.log')", "os.rename"),
    ("from pathlib import Path\nPath('logs/app.log').unlink()\nresult = 'ok'", "Path.unlink"),
    ("from pathlib import Path\np = Path('done.txt')\np.write_text('checked')\nresult = 'ok'", "Path.write_text"),
])
def test_a_package_changing_files_is_told_to_plan_write_file_or_say_it_cannot(code: str, named: str) -> None:
    [why] = outward_actions(ast.parse(code))
    assert why.startswith(f"uses {named}: a package has no workspace files and changes none")
    assert "write_file's red node" in why and "say so in the answer" in why


@pytest.mark.parametrize(("name", "needs"), [
    ("os.remove", "deleting, moving or renaming files"), ("shutil.move", "deleting, moving or renaming files"),
    ("Path.unlink", "deleting, moving or renaming files"), ("os.system", "running a program"),
    ("subprocess", "running a program"), ("Path.write_text", None), ("requests", None), ("sqlite3", None),
])
def test_what_no_tool_does_is_running_programs_or_deleting_and_moving_files(name: str, needs: str | None) -> None:
    assert beyond_tools(name) == needs


@pytest.mark.parametrize(("code", "only_acts"), [
    ("import os\nos.remove('logs/app.log')", True),  # bench.quality delete-log
    ("import subprocess\nsubprocess.run(['systemctl', 'restart', 'checkout'])", True),  # restart-service
    ("import shutil\nshutil.move('a.log', 'old/a.log')", True),
    ("import subprocess\nresult = subprocess.run(['grep', '-c', 'E', 'a.log']).stdout", False),  # computes
    ("import subprocess\nprint(subprocess.check_output(['grep', 'E', 'a.log']))", False),  # shows it
    ("import os\nos.remove(inputs['f']['path'])", False),  # reads an input: the repair round judges
    ("import os\nos.remove('/scratch/part.csv')", False),  # scratch: no file change
    ("import requests\nrequests.post('https://x')", False),  # a network: a tool may do it
    ("import os\nos.remove('a.log'", False),  # does not parse
])
def test_a_package_there_only_for_what_no_tool_does(code: str, only_acts: bool) -> None:
    assert acts_only_beyond_tools(code) is only_acts


def test_strings_replacing_and_scratch_files_are_no_file_change() -> None:
    code = ("text = inputs['f']['content'].replace('a', 'b')\nimport os\np = os.path.join('/scratch', 'x')\n"
            "os.remove('/scratch/part.csv')\nfrom pathlib import Path\nPath('/scratch/n.txt').write_text(text)\n"
            "result = text.split()")
    assert outward_actions(ast.parse(code)) == []


@pytest.mark.parametrize(("code", "named"), [
    ("import sqlite3\nconn = sqlite3.connect('config.db')\nconn.execute('INSERT INTO deploys VALUES (1)')", "sqlite3"),
    ("from sqlalchemy import create_engine\nresult = create_engine('postgresql://db').connect()", "sqlalchemy"),
])
def test_a_package_opening_a_database_is_told_to_use_the_database_tools_nodes(code: str, named: str) -> None:
    [why] = outward_actions(ast.parse(code))
    assert why.startswith(f"uses {named}: a package has no database to open")
    assert "query tool's node" in why and "red tool's node" in why


def test_computing_with_the_standard_library_is_no_action() -> None:
    code = ("import os, json, csv, io\nfrom urllib.parse import urlsplit\nimport urllib.parse\n"
            "rows = list(csv.reader(io.StringIO(inputs['f']['content'])))\n"
            "result = {'sep': os.sep, 'host': urlsplit(inputs['u']).hostname, 'n': len(rows)}")
    assert outward_actions(ast.parse(code)) == []


@pytest.mark.parametrize(("code", "named"), [
    ("import numpy as np\nresult = float(np.mean([1, 2]))", "imports numpy"),
    ("from pandas import DataFrame\nresult = 1", "imports pandas"),
    ("import json, scipy.stats\nresult = 1", "imports scipy"),
])
def test_a_module_the_sandbox_lacks_is_named_with_what_it_has(code: str, named: str) -> None:
    """bench.quality average-p99: numpy in a package failed every attempt, reflexion kept it."""
    [why] = problems(code)
    assert why.startswith(named + ", which the sandbox does not have") and "statistics.mean" in why


def test_the_standard_library_the_image_parsers_and_relative_imports_are_there() -> None:
    assert problems("import statistics, yaml, dateutil.parser\nfrom bs4 import BeautifulSoup\n"
                    "from lxml import etree\nfrom . import x\nresult = statistics.mean([1])") == []
    assert problems("import requests\nresult = 1") == []  # acting on the world: outward_actions' to say


class _ParsesWhenCollected:
    """Like an asyncio task whose exception nobody retrieved: collected, it formats a traceback,
    which on CPython 3.11 parses source to place the carets."""

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self) -> None:
        ast.parse("x = (1 + 2) * 3")


def test_a_parse_survives_a_finalizer_that_parses_during_it() -> None:
    source = (Path(__file__).resolve().parents[2] / "agent" / "plan" / "validation.py").read_text()
    thresholds = gc.get_threshold()
    gc.set_threshold(1)  # collect at every allocation: the finalizer runs mid-parse
    try:
        for _ in range(5):
            _ParsesWhenCollected()
            assert isinstance(parse_python(source), ast.Module)
    finally:
        gc.set_threshold(*thresholds)
    assert gc.isenabled()


@pytest.mark.parametrize(("code", "unfolded"), [
    ("for s in inputs['x']['services']: if s['status'] == 'down': result = s['name']",
     "for s in inputs['x']['services']:\n    if s['status'] == 'down': result = s['name']"),
    ("total = 0\n  \nif True: for r in rows(): total += r\nelse: total = -1\nresult = total",
     "total = 0\n  \nif True:\n    for r in rows(): total += r\nelse: total = -1\nresult = total"),
    ("for k in sorted(d, key=lambda k: d[k]): if d[k] > 0: result = k",  # the lambda's colon is not the header's
     "for k in sorted(d, key=lambda k: d[k]):\n    if d[k] > 0: result = k"),
    ("if a: while b: with c: result = ':'",
     "if a:\n    while b:\n        with c: result = ':'"),
    # bench.quality status-and-incidents: the body's jump written with no separator
    ("for s in inputs['x']['services']: if s['status'] == 'down': result = s['name'] break",
     "for s in inputs['x']['services']:\n    if s['status'] == 'down': result = s['name']; break"),
    ("for r in rows:\n    if not r: skipped += 1 continue\n    n += r",
     "for r in rows:\n    if not r: skipped += 1; continue\n    n += r"),
])
def test_blocks_written_on_one_line_are_laid_out_as_python_needs(code: str, unfolded: str) -> None:
    with pytest.raises(SyntaxError):
        ast.parse(code)
    assert unfolded_blocks(code) == unfolded


@pytest.mark.parametrize("code", [
    "for s in x: result = s",  # Python already
    "result = [s for s in x if s]",
    "for s in x: if s: result = (",  # still no Python once unfolded
    "for s in x:\n    if s: break",  # a jump that is the whole body
    "result = 'take a break'",
    'notes = """a pause\nwe take a break\n"""\nresult = notes',
])
def test_code_with_nothing_to_unfold_or_no_good_unfolding_is_left_as_it_is(code: str) -> None:
    assert unfolded_blocks(code) is None


def test_validation_lays_out_one_line_blocks_before_it_checks_the_code() -> None:
    from agent.plan.validation import validate_plan
    from tests.fakes.tools import ToolLog, simulated_registry

    plan = validate_plan({"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "k"}},
        {"id": "p", "package": {"goal": "g", "code": "for c in inputs['a']: if c == 'v': result = c"}}]},
        simulated_registry(ToolLog()))
    code = plan.node("p").package.code  # type: ignore[union-attr]
    assert code == "for c in inputs['a']:\n    if c == 'v': result = c"
    assert plan.node("p").depends_on == ["a"]


def test_code_that_does_not_parse_is_still_told_what_its_imports_cannot_do() -> None:
    # bench.quality sql-failed: an unterminated string, so reflexion got it, and then sqlite3
    from agent.errors import PlanError
    from agent.plan.validation import validate_plan
    from tests.fakes.tools import ToolLog, simulated_registry

    code = "import sqlite3\nimport json\nconn = sqlite3.connect('deployments.db')\nrows = conn.execute('SELECT"
    with pytest.raises(PlanError) as raised:
        validate_plan({"nodes": [{"id": "q", "package": {"goal": "g", "code": code}}]},
                      simulated_registry(ToolLog()))
    problems = [p.message for p in raised.value.problems]
    assert any(p.startswith("syntax error line 4") for p in problems)
    assert any(p.startswith("uses sqlite3: a package has no database to open") for p in problems)
    assert not any("json" in p for p in problems)
