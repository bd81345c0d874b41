"""The mends of a model's plan, one registry (agent/plan/mends/pipeline.py): their order, their
names and slips, and for each a table of before and after. A draft is written as a model writes
it (plan JSON, read by :func:`agent.plan.parsing.parse_plan`), the mend's ``fix`` applied alone,
and the plan it gives is written out in full; a draft without the slip comes back equal, so the
pipeline does not report the mend as fired."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, field_validator

from agent.plan.format import PlanNode
from agent.plan.limits import PlanLimits
from agent.plan.mends.contract import Draft, Mend, MendContext, Mended, apply_mends
from agent.plan.mends.file_row_queries import computed_file_rows
from agent.plan.mends.listed_files import read_listed_files
from agent.plan.mends.pipeline import PLAN_MENDS, corrections, mend_plan
from agent.plan.parsing import parse_plan
from agent.plan.validation import validated_plan
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.email import SmtpConfig
from agent.tools.files import FileToolConfig
from agent.tools.registry import ArgumentRefusal, Risk, ToolRegistry
from tests.fakes.tools import ToolLog, simulated_registry

ROOT = Path(__file__).resolve().parents[2]
MENDS = {mend.name: mend for mend in PLAN_MENDS}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ToolRegistry:
    """The simulated tools (lookup, and the red deploy, scale and send) with the built-in ones
    (http_get, read_file, write_file…: their outputs' keys are declared)."""
    registry = simulated_registry(ToolLog())
    workspace = tmp_path_factory.mktemp("workspace")
    register_builtin_tools(registry, BuiltinToolConfig(files=FileToolConfig(workspace=workspace),
                                                       smtp=SmtpConfig(host="127.0.0.1")))
    for name, risk, statements in (("query", Risk.GREEN, "SELECT"), ("execute", Risk.RED, "INSERT|UPDATE")):
        registry.add(StructuredTool.from_function(coroutine=_statement_tool, name=name, description=name,
                                                  args_schema=_statement_args(statements)), risk,
                     effects={"record"} if risk is Risk.RED else None)
    registry.add(StructuredTool.from_function(coroutine=_statement_tool, name="sql_query", description="sql",
                                              args_schema=_statement_args("SELECT")), Risk.GREEN,
                 plan_check=_deploys_only)
    return registry


def _deploys_only(args: dict[str, Any]) -> ArgumentRefusal | None:
    """sql_query's plan check over a database whose one table is ``deploys``."""
    tables = re.findall(r"\bfrom\s+(\w+)", str(args.get("sql", "")), re.I)
    unknown = [t for t in tables if t.lower() != "deploys"]
    return ArgumentRefusal(unknown[0], "no such table") if unknown else None


async def _statement_tool(sql: str) -> str:
    return sql


def _statement_args(statements: str) -> type[BaseModel]:
    """An SQL tool's arguments that take only ``statements`` (a read-only query refuses INSERT)."""
    class StatementArgs(BaseModel):
        sql: str

        @field_validator("sql")
        @classmethod
        def only(cls, sql: str) -> str:
            if not re.match(rf"\s*(?:{statements})\b", sql, re.I):
                raise ValueError(f"only {statements} statements")
            return sql
    return StatementArgs


def drafted(raw: Mapping[str, Any], registry: ToolRegistry) -> Draft:
    """``raw`` read as validation reads it; every node written is in the draft or named unparsed
    (so that a slip in a fixture cannot leave a node out unseen)."""
    draft = parse_plan(dict(raw), registry, PlanLimits()).draft
    assert len(draft.nodes) + len(draft.unparsed) == len(raw["nodes"]), "a node of the fixture did not parse"
    return draft


def written(draft: Draft) -> dict[str, Any]:
    """A draft as plan JSON (the long form), for a readable diff."""
    return {"nodes": [node.model_dump(exclude_none=True, exclude_defaults=True) for node in draft.nodes],
            "answer": draft.answer}


@dataclass(frozen=True)
class Thread:
    """What a mend may see besides the draft (:class:`MendContext`, the registry aside)."""

    request: str | None = None
    earlier_calls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    known: tuple[Any, ...] = ()

    def context(self, registry: ToolRegistry, *, partial: bool = False) -> MendContext:
        return MendContext(registry, partial=partial, earlier_calls=self.earlier_calls,
                           request=self.request, known=self.known)


@dataclass(frozen=True)
class Fix:
    before: dict[str, Any]
    after: dict[str, Any]
    thread: Thread = Thread()


@dataclass(frozen=True)
class Clean:
    draft: dict[str, Any]
    thread: Thread = Thread()


def package(node_id: str, code: str, goal: str = "g") -> dict[str, Any]:
    return {"id": node_id, "package": {"goal": goal, "code": code}}


STATUS = {"id": "status", "http_get": {"url": "https://status.example.com/status.json"}}
LOG = {"id": "log", "read_file": {"path": "logs/app.log"}}
ORDERS = {"id": "orders", "read_file": {"path": "data/orders.csv"}}
EARLIER = Thread(earlier_calls={
    "raw": {"tool": "lookup", "args": {"key": "x"}},
    "log": {"tool": "lookup", "args": {"key": "${raw}"}},
    "shipped": {"tool": "deploy", "args": {"target": "web"}},
})
SLOWEST = Thread(request="Email that service's name to sre@example.com", known=(
    ["Which service in slo/latency.csv has the highest p95_ms?", "It is `search`.", {
        "latency": {"status": "done", "output": {"path": "slo/latency.csv", "content": "service,region\nsearch,eu\n"}},
        "computed": {"status": "done", "output": "search"}}],
    {}))
"""A follow-up: the value the run before computed (``search``); ``region`` is only in a file's text."""

REVIEWED = Thread(request="mail them the still-open action items at amara@example.com", earlier_calls={
    "review": {"tool": "read_file", "args": {"path": "notes/review-2026-11-19.md"}}}, known=(
    ["Who ran the review in notes/review-2026-11-19.md?", "Amara Okafor.", {"review": {"status": "done", "output": {
        "path": "notes/review-2026-11-19.md", "content": "Facilitator: Amara Okafor\n- [ ] Jonas: add an alert on pool "
                                              "saturation (due 2026-11-26)\n- [ ] Wei: a load test (due 2026-12-03)\n"}}}],))
"""A follow-up to a question over one file the thread read."""

FIXES: dict[str, Fix] = {
    "blank-options": Fix(
        before={"nodes": [
            {"id": "a", "lookup": {"key": "x", "gate": ""}},
            {"id": "b", "lookup": [{"key": "p", "gate": None}, {"key": "q"}]}]},
        after={"nodes": [
            {"id": "a", "lookup": {"key": "x"}},
            {"id": "b", "lookup": [{"key": "p"}, {"key": "q"}]}]}),
    "missing-fill-ins": Fix(
        before={"nodes": [
            {"id": "mail", "send_email": {"to": "ci@example.com", "body": "2 failed"}, "why": "asked"}]},
        after={"nodes": [
            {"id": "mail", "send_email": {"subject": "Message from dagbot", "to": "ci@example.com",
                                          "body": "2 failed"}, "why": "asked"}]}),
    "self-dependency": Fix(
        before={"nodes": [
            {"id": "a", "lookup": {"key": "x"}},
            {"id": "b", "lookup": {"key": "${a}"}, "depends_on": ["b", "a"]}]},
        after={"nodes": [
            {"id": "a", "lookup": {"key": "x"}},
            {"id": "b", "lookup": {"key": "${a}"}, "depends_on": ["a"]}]}),
    "duplicate-ids": Fix(
        before={"nodes": [
            {"id": "lookup", "lookup": {"key": "a"}},
            {"id": "lookup", "lookup": {"key": "b"}},
            {"id": "lookup_2", "lookup": {"key": "c"}}]},
        after={"nodes": [
            {"id": "lookup", "lookup": {"key": "a"}},
            {"id": "lookup_3", "lookup": {"key": "b"}},  # (lookup_2 is taken)
            {"id": "lookup_2", "lookup": {"key": "c"}}]}),
    "file-row-queries": Fix(  # nightly follow-up-longest-size: "how big was that backup?"
        thread=Thread(request="how big was that backup?", earlier_calls={
            "log": {"tool": "read_file", "args": {"path": "backups/nightly.log"}},
            "computed": {"package": {"goal": "g", "code": ""}}}),
        before={"nodes": [{"id": "size", "sql_query": {"sql": "SELECT size FROM data ORDER BY duration DESC"}}]},
        after={"nodes": [
            {"id": "nightly", "read_file": {"path": "backups/nightly.log"}},
            {**package("size", "", goal="Compute from the inputs every value this request asks for: how big was "
                                        "that backup?"), "depends_on": ["nightly"]}]}),
    "thread-fed-changes": Fix(  # nightly follow-up-mail-facilitator: the body the model's own sentence
        thread=REVIEWED,
        before={"nodes": [{"id": "mail", "send": {"to": "amara@example.com", "body": "Please review the open items "
                                                                                     "in notes/review-2026-11-19.md."}}]},
        after={"nodes": [
            {"id": "review_2026_11_19", "read_file": {"path": "notes/review-2026-11-19.md"}},
            {**package("computed", "", goal="Compute from the inputs every value this request asks for: mail them "
                                            "the still-open action items at amara@example.com"),
             "depends_on": ["review_2026_11_19"]},
            {"id": "mail", "send": {"to": "amara@example.com", "body": "${computed}"}}]}),
    "listed-files": Fix(  # nightly size-on-22nd: a listing of the one file summed from
        before={"nodes": [
            {"id": "nightly", "list_files": {"pattern": "backups/nightly.log"}},
            {**package("total", "result = inputs['nightly']['content'].count('ok')"), "depends_on": ["nightly"]}]},
        after={"nodes": [
            {"id": "nightly", "read_file": {"path": "backups/nightly.log"}},
            {**package("total", "result = inputs['nightly']['content'].count('ok')"), "depends_on": ["nightly"]}]}),
    "code-references": Fix(  # nightly broken-oncall: the read's path as a reference in code
        before={"nodes": [
            {"id": "oncall", "read_file": {"path": "team/oncall.yaml"}},
            package("parse", "import yaml; result = yaml.safe_load(open('${oncall.path}'))['weeks']; n = \"${oncall}\"")]},
        after={"nodes": [
            {"id": "oncall", "read_file": {"path": "team/oncall.yaml"}},
            package("parse", "import yaml; result = yaml.safe_load(open(inputs['oncall']['path']))['weeks']; "
                             "n = inputs['oncall']")]}),
    "unfolded-blocks": Fix(
        before={"nodes": [
            STATUS,
            package("down", "for s in inputs['status']['services']: if s['ok']: result = s['name'] break")]},
        after={"nodes": [
            STATUS,
            package("down", "for s in inputs['status']['services']:\n    if s['ok']: result = s['name']; break")]}),
    "uncalled-function": Fix(
        before={"nodes": [
            STATUS,
            package("slow", "def slowest(inputs):\n    return max(inputs['status']['services'], key=len)")]},
        after={"nodes": [
            STATUS,
            package("slow", "def slowest(inputs):\n    return max(inputs['status']['services'], key=len)\n\n"
                            "result = slowest(inputs)\n")]}),
    "computed-references": Fix(
        before={"nodes": [
            {"id": "oncall", "read_file": {"path": "oncall.txt"}},
            {"id": "mail", "send": {"to": "ops@example.com", "body": "${oncall.content.splitlines()[0]}"}}]},
        after={"nodes": [
            {"id": "oncall", "read_file": {"path": "oncall.txt"}},
            package("mail_oncall", "result = inputs['oncall']['content'].splitlines()[0]",
                    goal="compute oncall.content.splitlines()[0]"),
            {"id": "mail", "send": {"to": "ops@example.com", "body": "${mail_oncall}"}}]}),
    "single-calls": Fix(
        before={"nodes": [
            {"id": "got", "lookup": ["alpha"]},
            {"id": "use", "lookup": {"key": "${got.value}"}}]},
        after={"nodes": [
            {"id": "got", "lookup": {"key": "alpha"}},
            {"id": "use", "lookup": {"key": "${got.value}"}}]}),
    "refetched-inputs": Fix(  # tuning slow-services: the package fetched the page again, with requests
        before={"nodes": [
            STATUS,
            package("slow", "import json\nimport requests\nurl = inputs['status']['url']\n"
                            "response = requests.get(url)\ndata = response.json()\n"
                            "result = [s for s in data['services'] if response.status_code == 200]")]},
        after={"nodes": [
            STATUS,
            package("slow", "import json\npass\nurl = inputs['status']['url']\n"
                            "response = inputs['status']\ndata = response['json']\n"
                            "result = [s for s in data['services'] if response['status'] == 200]")]}),
    "opened-as-text": Fix(
        before={"nodes": [
            ORDERS, STATUS,
            package("top", "rows = open(inputs['orders']['path']).read()\nresult = open('status.json').read() + rows")]},
        after={"nodes": [
            ORDERS, STATUS,
            package("top", "import io\nrows = io.StringIO(inputs['orders']['content']).read()\n"
                           "result = io.StringIO(inputs['status']['text']).read() + rows")]}),
    "joined-packages": Fix(
        before={"nodes": [
            ORDERS,
            package("build", "regions = inputs['orders']['content'].split()"),
            package("top", "result = max(regions)")]},
        after={"nodes": [
            ORDERS,
            package("build", "regions = inputs['orders']['content'].split()"),
            {**package("top", "regions = inputs['orders']['content'].split()\nresult = max(regions)"),
             "depends_on": ["orders"]}]}),
    "recalled-calls": Fix(
        thread=EARLIER,
        before={"nodes": [package("n", "result = inputs['log']")], "answer": "${n} and ${raw}"},
        after={"nodes": [
            {"id": "log", "lookup": {"key": "${raw}"}},  # what the plan reads, and what that reads
            {"id": "raw", "lookup": {"key": "x"}},
            package("n", "result = inputs['log']")],
            "answer": "${n} and ${raw}"}),
    "named-recipients": Fix(  # monday mail-checkout-resolve: "to": "retro facilitator", the retro unwaited
        before={"nodes": [
            {"id": "retro", "read_file": {"path": "retros/checkout.md"}},
            {"id": "pages", "read_file": {"path": "oncall/pages.csv"}},
            package("total", "result = len(inputs['pages']['content'])"),
            {"id": "mail", "send_email": {"to": "retro facilitator", "subject": "s", "body": "${total}"}}]},
        after={"nodes": [
            {"id": "retro", "read_file": {"path": "retros/checkout.md"}},
            {"id": "pages", "read_file": {"path": "oncall/pages.csv"}},
            package("total", "result = len(inputs['pages']['content'])"),
            {"id": "mail", "send_email": {"to": "retro facilitator", "subject": "s", "body": "${total}"},
             "depends_on": ["retro"]}]}),
    "followed-goals": Fix(  # tuesday follow-up-biggest-bucket: "which team owns that one, …?" said nothing of which
        thread=Thread(request="which team owns that one?", known=(
            ["what's the biggest bucket in inventory/buckets.json?", "dp-raw-clickstream.", {}],)),
        before={"nodes": [{"id": "b", "read_file": {"path": "inventory/buckets.json"}},
                          package("team", "", "Compute from the inputs every value this request asks for: "
                                              "which team owns that one?")]},
        after={"nodes": [{"id": "b", "read_file": {"path": "inventory/buckets.json"}},
                         package("team", "", "Compute from the inputs every value this request asks for: "
                                             "which team owns that one? (a follow-up to: what's the biggest bucket "
                                             "in inventory/buckets.json?)")]}),
    "thread-files": Fix(  # monday follow-up-deploy-failer: "who kicked it off, and when?" searched another file
        thread=Thread(request="who kicked it off, and when?", earlier_calls={
            "runs": {"tool": "read_file", "args": {"path": "ci/workflow-runs.json"}}}, known=(
            ["did a deploy-prod run fail in ci/workflow-runs.json?", "Yes.",
             {"runs": {"status": "done", "output": {"path": "ci/workflow-runs.json", "content": "{}"}}}],)),
        before={"nodes": [
            {"id": "who", "search_files": {"query": "who kicked it off", "pattern": "oncall/pages-2026-11.csv"}},
            {"id": "when", "read_file": {"path": "oncall/pages-2026-11.csv"}}]},
        after={"nodes": [
            {"id": "who", "search_files": {"query": "who kicked it off", "pattern": "ci/workflow-runs.json"}},
            {"id": "when", "read_file": {"path": "ci/workflow-runs.json"}}]}),
    "padded-paths": Fix(  # monday due-before-dec-3: a search of " retros/…md" searched nothing
        before={"nodes": [
            {"id": "due", "search_files": {"query": "due", "pattern": " retros/checkout.md"}},
            {"id": "read", "read_file": [{"path": "notes/a.md "}, {"path": "notes/b.md"}]}]},
        after={"nodes": [
            {"id": "due", "search_files": {"query": "due", "pattern": "retros/checkout.md"}},
            {"id": "read", "read_file": [{"path": "notes/a.md"}, {"path": "notes/b.md"}]}]}),
    "fetched-files": Fix(  # monday follow-up-mail-julia: http_get of ci/workflow-runs.json failed every time
        before={"nodes": [
            {"id": "runs", "http_get": {"url": "ci/workflow-runs.json"}},
            package("failed", "import json\nresult = len(json.loads(inputs['runs']['text']))"),
            {"id": "e2e", "http_get": ["ci/e2e-runs.json"]},  # (its second time: a fan-out of one)
            {"id": "two", "http_get": [{"url": "ci/a.json"}, {"url": "ci/b.json"}]}]},
        after={"nodes": [
            {"id": "runs", "read_file": {"path": "ci/workflow-runs.json"}},
            package("failed", "import json\nresult = len(json.loads(inputs['runs']['text']))"),
            {"id": "e2e", "read_file": [{"path": "ci/e2e-runs.json"}]},
            {"id": "two", "read_file": [{"path": "ci/a.json"}, {"path": "ci/b.json"}]}]}),
    "change-tools": Fix(
        thread=Thread(request="Add a row to the deploys table: web 2.0, deployed on 2026-11-26"),
        before={"nodes": [{"id": "row", "query": {"sql": "INSERT INTO deploys VALUES ('web', '2.0')"}}]},
        after={"nodes": [{"id": "row", "execute": {"sql": "INSERT INTO deploys VALUES ('web', '2.0')"}}]}),
    "listed-values": Fix(
        thread=Thread(request="Insert into the deploys table: ingest 3.2.0, deployed 2026-11-27, status failed"),
        before={"nodes": [{"id": "row", "execute": {
            "sql": "INSERT INTO deploys (service, version, deployed_on, status) VALUES ('3.2.0', '2026-11-27', "
                   "'failed')"}}]},
        after={"nodes": [{"id": "row", "execute": {
            "sql": "INSERT INTO deploys (service, version, deployed_on, status) VALUES ('ingest', '3.2.0', "
                   "'2026-11-27', 'failed')"}}]}),
    "thread-values": Fix(
        thread=SLOWEST,
        before={"nodes": [{"id": "mail", "send": {"to": "sre@example.com", "body": "${search.name}"},
                           "depends_on": ["search"]}], "answer": "Sent ${search}."},
        after={"nodes": [{"id": "mail", "send": {"to": "sre@example.com", "body": "search"}}],
               "answer": "Sent search."}),
    "misnamed-inputs": Fix(
        before={"nodes": [
            {"id": "read_consumers", "read_file": {"path": "queue/consumers.json"}},
            {**package("stalled", "import json\nresult = json.loads(inputs['consumers']['content'])"),
             "depends_on": ["read_consumers"]}]},
        after={"nodes": [
            {"id": "read_consumers", "read_file": {"path": "queue/consumers.json"}},
            {**package("stalled", "import json\nresult = json.loads(inputs['read_consumers']['content'])"),
             "depends_on": ["read_consumers"]}]}),
    "input-fields": Fix(
        before={"nodes": [
            STATUS, {"id": "deploy", "read_file": {"path": "deploy.yaml"}},
            package("p", "result = (inputs['status']['content'][:80], inputs['status']['services'], "
                         "inputs['deploy']['replicas'])")]},
        after={"nodes": [
            STATUS, {"id": "deploy", "read_file": {"path": "deploy.yaml"}},
            package("p", "import yaml\nresult = (inputs['status']['text'][:80], inputs['status']['json']['services'], "
                         "yaml.safe_load(inputs['deploy']['content'])['replicas'])")]}),
    "reference-fields": Fix(
        before={"nodes": [
            STATUS, LOG,
            {"id": "save", "write_file": {
                "path": "out.txt", "content": "${status.content} ${log.0.content} ${status.services.0.name}"}}],
            "answer": "Saved ${status.text.services}."},
        after={"nodes": [
            STATUS, LOG,
            {"id": "save", "write_file": {
                "path": "out.txt", "content": "${status.text} ${log.content} ${status.json.services.0.name}"}}],
            "answer": "Saved ${status.json.services}."}),
    "unknown-template": Fix(
        before={"nodes": [{"id": "a", "lookup": {"key": "x"}}], "answer": "It is ${b}."},
        after={"nodes": [{"id": "a", "lookup": {"key": "x"}}]}),
    "reply-package": Fix(
        before={"nodes": [
            {"id": "a", "lookup": {"key": "services"}},
            package("count", "result = len(inputs['a'])"),
            package("answer", "There are ${count} slow services.", goal="say it")]},
        after={"nodes": [
            {"id": "a", "lookup": {"key": "services"}},
            package("count", "result = len(inputs['a'])")],
            "answer": "There are ${count} slow services."}),
    "reply-package-twice": Fix(
        before={"nodes": [
            {"id": "p99", "lookup": {"key": "p99"}},
            package("answer", "answer = f'It is {p99}.'", goal="format the reply")],
            "answer": "The average p99 is ${p99}."},
        after={"nodes": [{"id": "p99", "lookup": {"key": "p99"}}], "answer": "The average p99 is ${p99}."}),
    "guessed-answer": Fix(
        before={"nodes": [{"id": "a", "lookup": {"key": "status"}}], "answer": "All services are healthy."},
        after={"nodes": [{"id": "a", "lookup": {"key": "status"}}]}),
    "change-targets": Fix(
        thread=Thread(request="Write 'checked' to done.txt"),
        before={"nodes": [{"id": "save", "write_file": {"path": "checked.txt", "content": "checked"}, "why": "asked"}]},
        after={"nodes": [{"id": "save", "write_file": {"path": "done.txt", "content": "checked"}, "why": "asked"}]}),
}
"""Each mend's slip as a model writes it, and the plan once that mend alone has fixed it."""

NOTHING_TO_FIX: dict[str, Clean] = {
    "blank-options": Clean({"nodes": [
        {"id": "a", "lookup": {"key": "", "gate": "g"}},  # a required argument blank: the tool says so
        {"id": "z", "no_such_tool": {"x": ""}}]}),  # an unknown tool: the checks say so
    "missing-fill-ins": Clean({"nodes": [
        {"id": "mail", "send_email": {"to": "ci@example.com", "subject": "", "body": "hi"}, "why": "asked"},
        {"id": "other", "send": {"to": "ci@example.com", "body": "hi"}, "why": "asked"}]}),  # no fill-ins
    "self-dependency": Clean({"nodes": [
        {"id": "a", "lookup": {"key": "x"}},
        {"id": "b", "lookup": {"key": "${b.value}"}, "depends_on": ["a"]}]}),  # a reference to itself: a cycle
    "duplicate-ids": Clean({"nodes": [  # an id given twice that something reads: which one is meant?
        {"id": "a", "lookup": {"key": "x"}},
        {"id": "a", "lookup": {"key": "y"}},
        {"id": "b", "lookup": {"key": "${a}"}}]}),
    "unfolded-blocks": Clean({"nodes": [
        STATUS,
        package("one", "for s in inputs['status']['services']: result = s"),  # Python already
        package("two", "result = (inputs['status']")]}),  # no layout makes it parse: left to reflexion
    "uncalled-function": Clean({"nodes": [
        STATUS,
        package("one", "def first(s):\n    return s[0]\n\nresult = first(inputs['status']['services'])"),  # called
        package("two", "def pick(a, b):\n    return a\n"),  # two arguments to guess: left to reflexion
        package("three", "def a():\n    return 1\n\ndef b():\n    return 2\n")]}),  # which one?
    "computed-references": Clean({"nodes": [
        {"id": "oncall", "read_file": {"path": "oncall.txt"}},
        {"id": "mail", "send": {"to": "ops@example.com", "body": "${oncall.content} (echo ${HOME})"}},
        {"id": "again", "send": {"to": "ops@example.com", "body": "${oncall.content.split(os.sep)}"}}]}),
    "single-calls": Clean({"nodes": [
        {"id": "got", "lookup": ["alpha"]},
        {"id": "use", "lookup": {"key": "${got.0.value}"}}]}),  # read as the list it is
    "refetched-inputs": Clean({"nodes": [
        STATUS,
        # another address than the plan's: which result would it be?
        package("a", "import requests\nresult = requests.get('https://other.example.com/').json()"),
        # the response used otherwise (its headers): not plain
        package("b", "import requests\nr = requests.get(inputs['status']['url'])\nresult = r.headers"),
        # requests used for something else too
        package("c", "import requests\nr = requests.get(inputs['status']['url'])\n"
                     "result = [r.text, requests.post('https://x.example.com')]")]}),
    "opened-as-text": Clean({"nodes": [
        ORDERS,
        package("top", "raw = open(inputs['orders']['path'], 'rb').read()\nresult = open('other.csv').read()")]}),
    "joined-packages": Clean({"nodes": [  # two packages define it: which one is meant?
        package("one", "regions = ['eu']"),
        package("two", "regions = ['us']"),
        package("top", "result = max(regions)")]}),
    "recalled-calls": Clean(thread=EARLIER, draft={"nodes": [
        {"id": "raw", "lookup": {"key": "y"}},  # the plan's own raw
        {"id": "a", "lookup": {"key": "${shipped}"}}],  # a red call is never made again so
        "answer": "${raw} and ${a}"}),
    "named-recipients": Clean({"nodes": [  # addresses, and addresses a reference fills, wait for nothing
        {"id": "dir", "read_file": {"path": "team/directory.yaml"}},
        {"id": "who", "lookup": {"key": "owner"}},
        {"id": "a", "send_email": {"to": "hana@example.org", "subject": "s", "body": "b"}},
        {"id": "b", "send_email": {"to": "${who.email}", "cc": ["${who.manager}"], "subject": "s", "body": "b"}}]}),
    "padded-paths": Clean({"nodes": [  # a query's spaces are its own; a blank path is the tool's to refuse
        {"id": "find", "search_files": {"query": " due ", "pattern": "**/*.md"}},
        {"id": "read", "read_file": {"path": " "}}]}),
    "fetched-files": Clean({"nodes": [  # addresses, and a path a reference fills, are fetched as written
        {"id": "page", "http_get": {"url": "http://127.0.0.1:8000/status.json"}},
        {"id": "host", "http_get": {"url": "status.example.org/health"}},
        {"id": "next", "http_get": {"url": "${page.json.next}"}},
        {"id": "mixed", "http_get": [{"url": "ci/a.json"}, {"url": "http://127.0.0.1:8000/b.json"}]}]}),
    "change-tools": Clean(thread=Thread(request="Which deploys failed?"), draft={"nodes": [  # no change asked
        {"id": "row", "query": {"sql": "UPDATE deploys SET status = 'ok'"}},
        {"id": "read", "query": {"sql": "SELECT * FROM deploys"}}]}),
    "listed-values": Clean(  # every value named, in the request's order: nothing to take
        thread=Thread(request="Record in the deploys table that search 1.8.1 was deployed on 2026-11-23"),
        draft={"nodes": [{"id": "row", "execute": {
            "sql": "INSERT INTO deploys (service, version, deployed_on) VALUES ('search', '1.8.1', '2026-11-23')"}}]}),
    "thread-values": Clean(thread=SLOWEST, draft={"nodes": [
        {"id": "search", "lookup": {"key": "x"}},  # the plan's own node of that name
        {"id": "mail", "send": {"to": "sre@example.com", "body": "${search} ${latency.content} ${region}"}}]}),
    "misnamed-inputs": Clean({"nodes": [  # two dependencies: which one is meant is not plain
        {"id": "a", "read_file": {"path": "a.json"}}, {"id": "b", "read_file": {"path": "b.json"}},
        {**package("p", "result = inputs['c']"), "depends_on": ["a", "b"]}]}),
    "file-row-queries": Clean(
        thread=Thread(request="how big was that backup?", earlier_calls={
            "a": {"tool": "read_file", "args": {"path": "backups/a.log"}},
            "b": {"tool": "read_file", "args": {"path": "backups/b.csv"}}}),  # two files: which one?
        draft={"nodes": [
            {"id": "size", "sql_query": {"sql": "SELECT size FROM data"}},
            {"id": "rows", "sql_query": {"sql": "SELECT * FROM deploys"}}]}),  # a table the database has
    "code-references": Clean({"nodes": [
        {"id": "oncall", "read_file": {"path": "team/oncall.yaml"}},
        package("parse", "t = '${other.path}' + inputs['oncall']['content'] + '${oncall}s'")]}),  # no such node; not whole
    "thread-fed-changes": Clean(thread=REVIEWED, draft={"nodes": [
        {"id": "mail", "send": {"to": "amara@example.com", "body": "Open: add an alert on pool saturation"}},  # a line
        {"id": "note", "send": {"to": "wei@example.com", "body": "Your item is due 2026-12-03"}},  # a number
        {"id": "ref", "send": {"to": "lucia@example.com", "body": "${review}"}}]}),  # a reference
    "listed-files": Clean({"nodes": [
        {"id": "logs", "list_files": {"pattern": "backups/*.log"}},  # a wildcard: the files are the answer
        {"id": "size", "list_files": {"pattern": "backups/nightly.log"}},  # no package reads it: its size
        {"id": "dir", "list_files": {"pattern": "backups"}},  # a folder
        {**package("count", "result = len(inputs['logs']['files'])"), "depends_on": ["logs", "dir"]}],
        "answer": "${size}"}),
    "input-fields": Clean({"nodes": [
        STATUS, LOG,
        {"id": "pages", "http_get": [{"url": "https://a.example.com"}, {"url": "https://b.example.com"}]},
        package("p", "result = (inputs['status']['json']['services'], inputs['log']['content'], "
                     "inputs['log']['lines'], inputs['pages'][0]['content'])")]}),  # lines: no one fix
    "reference-fields": Clean({"nodes": [
        STATUS, LOG,
        {"id": "save", "write_file": {"path": "out.txt", "content": "${status.text} ${status.json.updated} ${log.1.content}"}}],
        "answer": "Saved ${save.path}."}),
    "unknown-template": Clean({"nodes": [
        {"id": "a", "lookup": {"key": "x"}},
        {"id": "b", "lookup": {"key": "x"}, "send": {"to": "ops@example.com", "body": "hi"}}],  # unparsed
        "answer": "It is ${a}, and ${b}."}),
    "reply-package": Clean({"nodes": [
        {"id": "a", "lookup": {"key": "services"}},
        package("count", "result = len(inputs['a'])"),
        package("answer", "result = f\"{inputs['count']} slow\"")]}),  # Python: it may be the computation
    "reply-package-twice": Clean({"nodes": [
        {"id": "p99", "lookup": {"key": "p99"}},
        package("answer", "result = inputs['p99'] + 1")],
        "answer": "It is ${answer}."}),  # the reply needs it
    "followed-goals": Clean(  # a thread's first run; a package with its code written
        thread=Thread(request="which team owns that one?", known=(
            ["what's the biggest bucket?", "dp-raw-clickstream.", {}],)),
        draft={"nodes": [package("team", "result = 1", "Compute from the inputs every value this request asks for: x"),
                         package("owner", "", "find the owner")]}),
    "thread-files": Clean(  # a path the thread names (an earlier listing), a search of the workspace
        thread=Thread(request="what does the runbook say?", earlier_calls={
            "runs": {"tool": "read_file", "args": {"path": "ci/workflow-runs.json"}},
            "docs": {"tool": "list_files", "args": {"pattern": "docs/*"}}}, known=(
            ["list docs/ and read ci/workflow-runs.json", "Here.",
             {"docs": {"status": "done", "output": {"files": ["docs/runbook.md"]}}}],)),
        draft={"nodes": [{"id": "book", "read_file": {"path": "docs/runbook.md"}},
                         {"id": "any", "search_files": {"query": "runbook", "pattern": "**/*.md"}}]}),
    "guessed-answer": Clean({"nodes": [], "answer": "No tool can restart a service."}),  # no results to wait for
    "change-targets": Clean(
        thread=Thread(request="Send the summary of notes.md to the owner", known=({"owner": "maria@example.com"},)),
        draft={"nodes": [{"id": "s", "send": {"to": "maria@example.com", "body": "the summary"}, "why": "asked"}]}),
}
"""For each mend, a plan without its slip (and close to it): the mend gives it back equal."""


def by_mend(cases: Mapping[str, Any]) -> list[Any]:
    return [pytest.param(mend, cases.get(mend.name), id=mend.name) for mend in PLAN_MENDS]


def test_the_mends_run_in_this_order() -> None:
    assert [mend.name for mend in PLAN_MENDS] == [
        "blank-options",
        "padded-paths",
        "fetched-files",
        "change-tools",
        "listed-values",
        "missing-fill-ins",
        "self-dependency",
        "duplicate-ids",
        "recalled-calls",
        "thread-values",
        "misnamed-inputs",
        "thread-files",
        "file-row-queries",
        "thread-fed-changes",
        "listed-files",
        "code-references",
        "followed-goals",
        "unfolded-blocks",
        "uncalled-function",
        "computed-references",
        "single-calls",
        "refetched-inputs",
        "opened-as-text",
        "joined-packages",
        "input-fields",
        "reference-fields",
        "unknown-template",
        "reply-package",
        "reply-package-twice",
        "guessed-answer",
        "change-targets",
        "named-recipients",
    ]


def test_names_are_unique_and_kebab_case_and_slips_read_after_a_colon() -> None:
    names = [mend.name for mend in PLAN_MENDS]
    assert len(set(names)) == len(names)
    assert [n for n in names if not re.fullmatch(r"[a-z]+(?:-[a-z0-9]+)*", n)] == []
    for mend in PLAN_MENDS:  # "dagbot corrected the model's plan: <slip>; <slip>."
        assert mend.slip and mend.slip == mend.slip.strip(), mend.name
        assert mend.slip[0].islower(), f"{mend.name}: a fragment, after a colon"
        assert not mend.slip.endswith("."), f"{mend.name}: the line adds its own period"


def test_only_the_mends_that_need_the_thread_or_the_request_are_skipped_on_a_streamed_plan() -> None:
    assert [mend.name for mend in PLAN_MENDS if not mend.partial_safe] == [
        "change-tools", "listed-values", "recalled-calls", "thread-values", "misnamed-inputs", "thread-files",
        "file-row-queries", "thread-fed-changes", "followed-goals", "change-targets"]


def test_every_mend_has_a_case_in_each_table() -> None:
    assert sorted(FIXES) == sorted(MENDS)
    assert sorted(NOTHING_TO_FIX) == sorted(MENDS)


@pytest.mark.parametrize(("mend", "case"), by_mend(FIXES))
def test_each_mend_fixes_its_slip(registry: ToolRegistry, mend: Mend, case: Fix | None) -> None:
    assert case is not None, f"{mend.name} has no before/after case"
    before, expected = drafted(case.before, registry), drafted(case.after, registry)
    assert expected != before, "the case shows a slip"
    context = case.thread.context(registry)
    fixed = mend.fix(before, context)
    assert written(fixed) == written(expected)
    assert fixed == expected
    assert mend.fix(fixed, context) == fixed  # fixed once is fixed (early start validates mended nodes again)
    assert apply_mends(before, context, [mend]) == Mended(expected, (mend.name,))
    streamed = apply_mends(before, case.thread.context(registry, partial=True), [mend])
    assert streamed.fired == ((mend.name,) if mend.partial_safe else ())


@pytest.mark.parametrize(("mend", "case"), by_mend(NOTHING_TO_FIX))
def test_each_mend_leaves_a_plan_without_its_slip_as_it_is(
        registry: ToolRegistry, mend: Mend, case: Clean | None) -> None:
    assert case is not None, f"{mend.name} has no nothing-to-fix case"
    draft = drafted(case.draft, registry)
    context = case.thread.context(registry)
    assert written(mend.fix(draft, context)) == written(draft)
    assert mend.fix(draft, context) == draft
    assert apply_mends(draft, context, [mend]) == Mended(draft, ())


# ---------------------------------------------------------------- apply_mends


def toy(name: str, fix: Any, *, partial_safe: bool = True) -> Mend:
    return Mend(name=name, slip=f"the {name} slip", fix=fix, partial_safe=partial_safe)


def with_node_b(draft: Draft, context: MendContext) -> Draft:
    if any(node.id == "b" for node in draft.nodes):
        return draft
    return draft.with_nodes([*draft.nodes, PlanNode(id="b", tool="lookup", args={"key": "b"})])


def answering_from_b(draft: Draft, context: MendContext) -> Draft:
    return draft.with_answer("${b}") if any(node.id == "b" for node in draft.nodes) else draft


def never_on_a_partial_plan(draft: Draft, context: MendContext) -> Draft:
    raise AssertionError("a mend not safe on a partial plan was run on one")


def test_apply_mends_says_which_fired_in_the_order_they_ran(registry: ToolRegistry) -> None:
    draft = drafted({"nodes": [{"id": "a", "lookup": {"key": "x", "gate": ""}, "depends_on": ["a"]}]}, registry)
    fixed = drafted({"nodes": [{"id": "a", "lookup": {"key": "x"}}]}, registry)
    context = MendContext(registry)
    mends = MENDS["self-dependency"], MENDS["duplicate-ids"], MENDS["blank-options"]
    assert apply_mends(draft, context, mends) == Mended(fixed, ("self-dependency", "blank-options"))
    assert apply_mends(draft, context, mends[::-1]) == Mended(fixed, ("blank-options", "self-dependency"))


def test_each_mend_gets_the_draft_the_one_before_it_left(registry: ToolRegistry) -> None:
    draft = drafted({"nodes": [{"id": "a", "lookup": {"key": "a"}}]}, registry)
    adds, answers = toy("adds-b", with_node_b), toy("answers-from-b", answering_from_b)
    context = MendContext(registry)
    both = apply_mends(draft, context, [adds, answers])
    assert both.fired == ("adds-b", "answers-from-b")
    assert [n.id for n in both.draft.nodes] == ["a", "b"] and both.draft.answer == "${b}"
    first_sees_no_b = apply_mends(draft, context, [answers, adds])
    assert first_sees_no_b.fired == ("adds-b",) and first_sees_no_b.draft.answer is None


def test_on_a_partial_plan_mends_not_safe_there_are_skipped(registry: ToolRegistry) -> None:
    case = FIXES["change-targets"]
    draft = drafted(case.before, registry)
    streamed = case.thread.context(registry, partial=True)
    assert apply_mends(draft, streamed, [toy("whole-plan", never_on_a_partial_plan, partial_safe=False)]) == Mended(
        draft, ())
    assert mend_plan(draft, streamed) == Mended(draft, ())  # the request's target waits for the whole plan
    whole = mend_plan(draft, case.thread.context(registry))
    assert whole.fired == ("change-targets",) and whole.draft.nodes[0].args["path"] == "done.txt"
    # the safe ones still run on a partial plan
    blank = drafted({"nodes": [{"id": "a", "lookup": {"key": "x", "gate": None}}]}, registry)
    assert mend_plan(blank, streamed).fired == ("blank-options",)


CLEAN_PLAN = {"nodes": [
    LOG,
    package("count", "result = inputs['log']['content'].count('ERROR')", goal="count the ERROR lines"),
    {"id": "save", "write_file": {"path": "done.txt", "content": "${count}"}, "why": "asked"}],
    "answer": "Wrote ${count} to done.txt."}
CLEAN_REQUEST = "Count the ERROR lines in logs/app.log and write the count to done.txt"


def test_a_clean_plan_comes_back_equal_with_nothing_fired(registry: ToolRegistry) -> None:
    draft = drafted(CLEAN_PLAN, registry)
    context = replace(EARLIER.context(registry), request=CLEAN_REQUEST, known=("an earlier answer",))
    assert mend_plan(draft, context) == Mended(draft, ())
    assert apply_mends(draft, context, PLAN_MENDS) == Mended(draft, ())


# ---------------------------------------------------------------- through validation


def test_validated_plan_names_the_mends_that_fired(registry: ToolRegistry) -> None:
    two_slips = {"nodes": [
        {"id": "got", "lookup": ["alpha"]},  # a fan-out of one, read as one call
        {"id": "use", "lookup": {"key": "${got.value}", "gate": ""}}]}  # a blank optional argument
    validated = validated_plan(two_slips, registry)
    assert validated.mends == ("blank-options", "single-calls")
    assert (validated.plan.node("got").args, validated.plan.node("got").each) == ({"key": "alpha"}, None)
    assert validated.plan.node("use").args == {"key": "${got.value}"}
    assert validated_plan(CLEAN_PLAN, registry, request=CLEAN_REQUEST).mends == ()


def test_corrections_are_the_slips_of_the_names_given_unknown_ones_skipped() -> None:
    assert corrections(["single-calls", "a-mend-of-another-version", "blank-options"]) == [
        MENDS["single-calls"].slip, MENDS["blank-options"].slip]
    assert corrections(["blank-options"]) == ["optional arguments given as empty values were left out"]
    assert corrections([mend.name for mend in PLAN_MENDS]) == [mend.slip for mend in PLAN_MENDS]
    assert corrections(["retired-mend"]) == [] and corrections([]) == []


# ---------------------------------------------------------------- the documentation


def documented_mends() -> list[list[str]]:
    """The rows of the table under "## What dagbot corrects" in docs/plan-format.md, by cell."""
    text = (ROOT / "docs/plan-format.md").read_text()
    assert "\n## What dagbot corrects\n" in text
    section = text.split("\n## What dagbot corrects\n", 1)[1].split("\n#", 1)[0]
    rows = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert cells[0] == ["name", "the slip it fixes", "runs on a streamed plan"]
    assert all(set(cell) <= set("-: ") for cell in cells[1]), "the header's rule"
    return cells[2:]


def test_the_documented_mends_are_the_registry_in_its_order() -> None:
    rows = documented_mends()
    assert [row[0].strip("`") for row in rows] == [mend.name for mend in PLAN_MENDS]
    assert [row[1] for row in rows] == [mend.slip for mend in PLAN_MENDS]  # as Slack shows it
    assert [row[2] for row in rows] == ["yes" if mend.partial_safe else "no" for mend in PLAN_MENDS]


def test_a_file_fetched_as_an_address_is_read_and_its_text_read_as_the_reads_content(registry: ToolRegistry) -> None:
    """monday follow-up-mail-julia: ``http_get`` of ``ci/workflow-runs.json``, its body read as ``text``."""
    fetched = {"nodes": [
        {"id": "runs", "http_get": {"url": "ci/workflow-runs.json"}},
        package("failed", "import json\nresult = len(json.loads(inputs['runs']['text']))")],
        "answer": "${failed} runs failed; ${runs.text}"}
    validated = validated_plan(fetched, registry)
    assert validated.mends[0] == "fetched-files" and "input-fields" in validated.mends
    assert (validated.plan.node("runs").tool, validated.plan.node("runs").args) == (
        "read_file", {"path": "ci/workflow-runs.json"})
    code = validated.plan.node("failed").package.code  # type: ignore[union-attr]
    assert "inputs['runs']['content']" in code and "['text']" not in code


def test_a_javascript_length_of_a_declared_field_is_computed_in_a_package(registry: ToolRegistry) -> None:
    """tuning follow-up-write, after its repair round: "content": "${count.matches.length}"."""
    mend = MENDS["computed-references"]
    search = {"id": "count", "search_files": {"query": "ERROR", "pattern": "logs/app.log"}}
    before = drafted({"nodes": [search, {"id": "write", "write_file": {
        "path": "reports/count.txt", "content": "${count.matches.length}"}}]}, registry)
    after = drafted({"nodes": [search, package("write_count", "result = len(inputs['count']['matches'])",
                                               goal="compute count.matches.length"),
                               {"id": "write", "write_file": {"path": "reports/count.txt",
                                                               "content": "${write_count}"}}]}, registry)
    assert written(mend.fix(before, MendContext(registry))) == written(after)
    # a parsed body's field may have a length of its own; an undeclared tool's output too
    kept = drafted({"nodes": [STATUS, {"id": "n", "lookup": {"key": "${status.json.queue.length}"}},
                              {"id": "m", "lookup": {"key": "${n.items.length}"}}]}, registry)
    assert mend.fix(kept, MendContext(registry)) == kept


def test_a_reply_package_the_answer_only_names_becomes_the_answer(registry: ToolRegistry) -> None:
    """dev follow-up-laggard: ``"answer": "${answer}"`` and a package ``answer`` whose code is the
    sentence; the sentence is the answer. An answer that says more than that package's result
    keeps the package (it may be the computation)."""
    mend = MENDS["reply-package"]
    count = package("count", "result = len(inputs['a'])")
    sentence = package("answer", "The busiest is ${count}.")
    before = drafted({"nodes": [{"id": "a", "lookup": {"key": "x"}}, count, sentence], "answer": "${answer}"},
                     registry)
    after = drafted({"nodes": [{"id": "a", "lookup": {"key": "x"}}, count], "answer": "The busiest is ${count}."},
                    registry)
    assert written(mend.fix(before, MendContext(registry))) == written(after)
    for answer in ("It is ${answer}.", "${count}", "${answer} ${count}"):
        kept = drafted({"nodes": [{"id": "a", "lookup": {"key": "x"}}, count, sentence], "answer": answer},
                       registry)
        assert mend.fix(kept, MendContext(registry)) == kept, answer


OLDEST_TICKET = Thread(request="Email its key to support-leads@example.com", known=(
    ["Which ticket in data/tickets.json has been open the longest?", "SUP-14, open for 72.75 hours.", {
        "tickets": {"status": "done", "output": {"path": "data/tickets.json", "content": '{"tickets": []}'}},
        "computed": {"status": "done", "output": {"ticket": "SUP-14", "longest_open": 72.75}}}],
    {}))
"""broad follow-up-oldest-ticket: the run before computed the ticket as a field of its result."""


def test_a_field_of_an_earlier_result_taken_for_a_nodes_field_is_that_value(registry: ToolRegistry) -> None:
    mend = MENDS["thread-values"]
    context = OLDEST_TICKET.context(registry)
    before = drafted({"nodes": [{"id": "email", "send_email": {
        "to": "support-leads@example.com", "subject": "Ticket", "body": "${tickets.ticket}"},
        "depends_on": ["tickets"]}], "answer": "Sent ${tickets.ticket}."}, registry)
    after = drafted({"nodes": [{"id": "email", "send_email": {
        "to": "support-leads@example.com", "subject": "Ticket", "body": "SUP-14"}}],
        "answer": "Sent SUP-14."}, registry)
    assert written(mend.fix(before, context)) == written(after)
    # the earlier read, recalled into the plan (recalled-calls runs first), has no such field either
    read = {"id": "tickets", "read_file": {"path": "data/tickets.json"}}
    recalled = replace(OLDEST_TICKET, earlier_calls={"tickets": {"tool": "read_file",
                                                                 "args": {"path": "data/tickets.json"}}})
    before = drafted({"nodes": [read, {"id": "email", "send_email": {
        "to": "support-leads@example.com", "body": "${tickets.ticket}"}, "depends_on": ["tickets"]}]}, registry)
    after = drafted({"nodes": [read, {"id": "email", "send_email": {
        "to": "support-leads@example.com", "body": "SUP-14"}, "depends_on": ["tickets"]}]}, registry)
    assert written(mend.fix(before, recalled.context(registry))) == written(after)
    # a field the node it names has, a node of the plan itself, a field two earlier values
    # share, a path deeper than one field: left as written
    two = Thread(request=OLDEST_TICKET.request, known=(
        [*OLDEST_TICKET.known[0][:2], {**OLDEST_TICKET.known[0][2],
                                      "other": {"status": "done", "output": {"ticket": "SUP-11"}}}], {}))
    for draft, thread in (
        ({"nodes": [{"id": "m", "lookup": {"key": "${tickets.path} ${computed.ticket}"}}]}, OLDEST_TICKET),
        ({"nodes": [{"id": "tickets", "read_file": {"path": "data/tickets.json"}},
                    {"id": "m", "lookup": {"key": "${tickets.ticket}"}}]}, OLDEST_TICKET),
        ({"nodes": [{"id": "m", "lookup": {"key": "${tickets.ticket}"}}]}, two),
        ({"nodes": [{"id": "m", "lookup": {"key": "${tickets.ticket.id}"}}]}, OLDEST_TICKET),
    ):
        kept = drafted(draft, registry)
        assert mend.fix(kept, thread.context(registry)) == kept, draft


def test_a_query_of_a_files_rows_becomes_a_plan_that_validates(registry: ToolRegistry) -> None:
    """The file-row-queries mend's plan (a read and dagbot's computing package, its code empty
    for the sandbox to write) passes every check after the mends."""
    case = FIXES["file-row-queries"]
    validated = validated_plan(case.before, registry, earlier_calls=case.thread.earlier_calls,
                               request=case.thread.request)
    assert "file-row-queries" in validated.mends
    assert [(n.id, n.tool or "package") for n in validated.plan.nodes] == [("nightly", "read_file"),
                                                                            ("size", "package")]


def test_a_reads_path_written_as_a_reference_in_code_is_then_its_text(registry: ToolRegistry) -> None:
    """code-references then opened-as-text: ``open('${oncall.path}')`` reads the text the read
    returned, and the package waits for the read."""
    before = {"nodes": [{"id": "oncall", "read_file": {"path": "team/oncall.yaml"}},
                        package("parse", "import yaml\nresult = yaml.safe_load(open('${oncall.path}'))['weeks']")]}
    validated = validated_plan(before, registry)
    assert validated.mends[:2] == ("code-references", "opened-as-text")
    parse = validated.plan.node("parse")
    assert parse.package is not None and "inputs['oncall']['content']" in parse.package.code
    assert "${" not in parse.package.code


def test_a_change_whose_words_the_request_gives_is_not_fed_from_the_thread(registry: ToolRegistry) -> None:
    """thread-fed-changes leaves the model's words where the request gives them ("tell … that …")."""
    told = {"nodes": [{"id": "mail", "send": {"to": "amara@example.com", "body": "The review is done."}}]}
    for request in ("tell amara@example.com that the review is done", "mail amara@example.com 'review done'"):
        thread = replace(REVIEWED, request=request)
        draft = drafted(told, registry)
        assert MENDS["thread-fed-changes"].fix(draft, thread.context(registry)) == draft


@pytest.mark.parametrize("table", ["backups/nightly_log", "nightly_log", "nightly.csv", "data"])
def test_a_query_of_the_file_the_thread_read_as_a_table_is_computed_from_it(
        registry: ToolRegistry, table: str) -> None:
    """nightly follow-up-longest-size, as run: "how big was that backup?" planned as ``SELECT
    SUM(size) FROM backups/nightly_log``, the file the thread read named as a table."""
    case = FIXES["file-row-queries"]
    before = drafted({"nodes": [{"id": "size", "sql_query": {"sql": f"SELECT SUM(size) FROM {table}"}}]}, registry)
    fixed = computed_file_rows(before, case.thread.context(registry))
    if table == "nightly.csv":  # (another file's name: not the one the thread read)
        assert fixed == before
    else:
        assert written(fixed) == written(drafted(case.after, registry))


_REPORT = ('<?xml version="1.0"?>\n<testsuites><testsuite name="smoke"><testcase name="a" time="1.2"/>'
           '</testsuite></testsuites>')


@pytest.mark.parametrize("content", [_REPORT, "<project><version>1.0</version></project>"])
def test_a_query_of_data_after_a_test_report_was_read_is_computed_from_the_report(
        registry: ToolRegistry, content: str) -> None:
    """weekend follow-up-failed-tests, as run: "Which smoke tests did not pass in
    ci/smoke-2026-11-28.xml?", then "of those, which one ran longest?" planned as ``SELECT name,
    max(time) FROM data``: an XML file read whole that is a test report is a table; other XML is
    not (the query stays, and its check's error says why)."""
    thread = Thread(request="of those, which one ran longest?",
                    earlier_calls={"smoke": {"tool": "read_file", "args": {"path": "ci/smoke.xml"}}},
                    known=(["Which smoke tests did not pass in ci/smoke.xml?", "b and c",
                            {"smoke": {"status": "done", "output": {"path": "ci/smoke.xml", "content": content}}}],
                           {}))
    before = drafted({"nodes": [{"id": "longest", "sql_query": {"sql": "SELECT name FROM data ORDER BY time"}}]},
                     registry)
    fixed = computed_file_rows(before, thread.context(registry))
    if content != _REPORT:
        assert fixed == before
        return
    assert written(fixed) == written(drafted({"nodes": [
        {"id": "smoke_2", "read_file": {"path": "ci/smoke.xml"}},  # (the earlier run's id is taken)
        {**package("longest", "", goal="Compute from the inputs every value this request asks for: of those, "
                                       "which one ran longest?"), "depends_on": ["smoke_2"]}]}, registry))


@pytest.mark.parametrize("sql", ["SELECT SUM(size) FROM logs WHERE path = 'backups/nightly.log'",
                                 "SELECT SUM(size) FROM backups WHERE file = 'nightly.log'"])
def test_a_query_of_a_table_nobody_has_that_quotes_the_file_the_thread_read_is_computed_from_it(
        registry: ToolRegistry, sql: str) -> None:
    """evening follow-up-last-deadlock, as run: "which statement was involved in the last one?"
    planned as ``SELECT statement FROM logs WHERE path = 'logs/postgresql-2026-11-26.log'``."""
    case = FIXES["file-row-queries"]
    before = drafted({"nodes": [{"id": "size", "sql_query": {"sql": sql}}]}, registry)
    assert written(computed_file_rows(before, case.thread.context(registry))) == written(
        drafted(case.after, registry))
    # another file's path quoted, or a table the database has: a query as asked
    for other in ("SELECT SUM(size) FROM logs WHERE path = 'backups/weekly.log'",
                  "SELECT * FROM deploys WHERE service = 'nightly.log'"):
        asked = drafted({"nodes": [{"id": "size", "sql_query": {"sql": other}}]}, registry)
        assert computed_file_rows(asked, case.thread.context(registry)) == asked


def test_a_follow_ups_searches_of_the_file_the_thread_read_are_computed_from_it(registry: ToolRegistry) -> None:
    """morning follow-up-biggest-unpaid, as run: "how much was it, and when is it due?" planned
    as searches of the thread's CSV for its column names and packages over them, which failed."""
    thread = Thread(request="how much was it, and when is it due?", earlier_calls={
        "invoices": {"tool": "read_file", "args": {"path": "finance/receivables.csv"}}})
    searches = [{"id": "amount", "search_files": {"query": "amount_usd", "pattern": "finance/receivables.csv"}},
                {"id": "due", "search_files": {"query": "due", "pattern": "finance/receivables.csv"}},
                {**package("due_info", "inputs['due']['content']"), "depends_on": ["due"]}]
    before = drafted({"nodes": searches, "answer": "It is ${amount} and due on ${due_info}."}, registry)
    fixed = computed_file_rows(before, thread.context(registry))
    assert written(fixed) == written(drafted({"nodes": [
        {"id": "receivables", "read_file": {"path": "finance/receivables.csv"}},
        {**package("amount", "", goal="Compute from the inputs every value this request asks for: how much was it, "
                                      "and when is it due?"), "depends_on": ["receivables"]}]}, registry))
    assert fixed.answer is None  # (its sentence was for the steps that are gone)
    # a change goes on from a search: left as it is
    mailed = drafted({"nodes": [*searches, {"id": "mail", "send": {"to": "a@example.com", "body": "${due}"}}]},
                     registry)
    assert computed_file_rows(mailed, thread.context(registry)) == mailed
    # a first request's search of a file nobody read before: a search
    first = Thread(request="which invoices mention Kestrel?")
    assert computed_file_rows(before, first.context(registry)) == before


def test_a_follow_up_about_the_files_rows_planned_as_a_query_of_a_table_nobody_named_is_computed_from_it(
        registry: ToolRegistry) -> None:
    """morning follow-up-not-ready, as run: "show me k8s/deployments-prod.json", then "which of
    them aren't running all the replicas they asked for?" planned as a query of the database's
    ``deploys`` table and a package over it."""
    asked = "which of them aren't running all the replicas they asked for?"
    thread = Thread(request=asked, earlier_calls={
        "k8s": {"tool": "read_file", "args": {"path": "k8s/deployments-prod.json"}}})
    nodes = [{"id": "replicas", "sql_query": {"sql": "SELECT service, version, deployed_on, status FROM deploys"}},
             {**package("not_running", "result = len(inputs['replicas'])"), "depends_on": ["replicas"]}]
    before = drafted({"nodes": nodes}, registry)
    fixed = computed_file_rows(before, thread.context(registry))
    assert written(fixed) == written(drafted({"nodes": [
        {"id": "deployments_prod", "read_file": {"path": "k8s/deployments-prod.json"}},
        {**package("replicas", "", goal=f"Compute from the inputs every value this request asks for: {asked}"),
         "depends_on": ["deployments_prod"]}]}, registry))
    # the table named, or queried in the thread before, or no word pointing back: a query as asked
    for request, calls in (("which of them are in the deploys table?", thread.earlier_calls),
                           ("which of them had a deploy that failed?", thread.earlier_calls),  # (singular)
                           ("how many deploys failed?", thread.earlier_calls),
                           ("are they all healthy?", thread.earlier_calls),  # ("they": maybe the database's)
                           (asked, {**thread.earlier_calls,
                                    "q": {"tool": "sql_query", "args": {"sql": "SELECT * FROM deploys"}}})):
        assert computed_file_rows(before, Thread(request=request, earlier_calls=calls).context(registry)) == before
    # a plan that reads the file too: its query is its own
    read_too = drafted({"nodes": [{"id": "k8s", "read_file": {"path": "k8s/deployments-prod.json"}}, *nodes]},
                       registry)
    assert computed_file_rows(read_too, thread.context(registry)) == read_too


@pytest.mark.parametrize("reference", ["${backup_list.files[0]}", "${backup_list.files[0].path}",
                                       "${backup_list.files.0.path}"])
def test_a_listed_files_one_file_given_where_a_path_goes_is_its_path(registry: ToolRegistry, reference: str) -> None:
    """nightly longest-run, as run: ``read_file`` of ``${backup_list.files[0]}`` (the listing's
    object where a path goes) after a ``list_files`` of that one path: the read failed."""
    listing = {"id": "backup_list", "list_files": {"pattern": "backups/nightly.log"}}
    before = drafted({"nodes": [listing, {"id": "info", "tool": "read_file", "args": {"path": reference},
                                          "depends_on": ["backup_list"]}]}, registry)
    fixed = read_listed_files(before, MendContext(registry))
    assert written(fixed) == written(drafted({"nodes": [
        listing, {"id": "info", "read_file": {"path": "backups/nightly.log"}}]}, registry))
    assert read_listed_files(fixed, MendContext(registry)) == fixed
    # a listing of a wildcard names no one file: left as it is
    wild = drafted({"nodes": [{"id": "backup_list", "list_files": {"pattern": "backups/*.log"}},
                              {"id": "info", "read_file": {"path": reference}}]}, registry)
    assert read_listed_files(wild, MendContext(registry)) == wild
