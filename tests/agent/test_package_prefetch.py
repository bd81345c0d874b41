"""Calls a package's code will make, started while the plan that holds the code still streams.

The code's complete straight-line statements are read (never run) for ``tools.NAME(...)``
calls whose arguments are known from the inputs done so far and from earlier calls' results;
those green calls start at once, and the package, once its code is complete and it runs,
takes each one over that its code makes with the same arguments."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from agent.events import AnswerReady, PlanReady
from agent.plan.code_calls import CodeCall, calls_so_far, complete_statements
from agent.ports.sandbox import EmitFn, PackageAttemptRecord, PackageJob, PackageOutcome, ToolGateway
from tests.agent.harness import MEMORY
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.packages import ScriptedPackages

CHAIN = ("second = tools.lookup(key=inputs['first'])\n"
         "third = tools.lookup(key=second)\n"
         "result = third\n")


def nothing_made(tool: str, args: dict[str, Any]) -> Any:
    raise LookupError(tool)


def made_from(outputs: dict[str, Any]) -> Any:
    def made(tool: str, args: dict[str, Any]) -> Any:
        return outputs[args["key"]]
    return made


def test_a_call_is_read_once_its_line_is_complete_and_its_inputs_are_done() -> None:
    assert calls_so_far(CHAIN[:30], {"first": "a"}, nothing_made) == []  # its line still growing
    assert calls_so_far(CHAIN, {}, nothing_made) == []  # its input not done yet
    assert calls_so_far(CHAIN, {"first": "a"}, nothing_made) == [CodeCall("second", "lookup", {"key": "a"})]
    assert calls_so_far(CHAIN, {"first": "a"}, made_from({"a": "b"})) == [
        CodeCall("second", "lookup", {"key": "a"}), CodeCall("third", "lookup", {"key": "b"})]


@pytest.mark.parametrize(("code", "expected"), [
    # subscripts of inputs and of results, constants, plain assignments in between
    ("page = inputs['p']['items'][1]\nx = tools.lookup(key=page, gate='g')\n",
     [CodeCall("x", "lookup", {"key": "b", "gate": "g"})]),
    # a call with positional or ** arguments is not worked out; the next one still is
    ("x = tools.lookup('a')\ny = tools.lookup(**{'key': 'a'})\nz = tools.lookup(key='c')\n",
     [CodeCall("z", "lookup", {"key": "c"})]),
    # a value computed (a call, an f-string) is not known: what reads it is left out
    ("k = inputs['p']['name'].upper()\nx = tools.lookup(key=k)\ny = tools.lookup(key=f'{k}')\n", []),
    # a loop or a branch ends the straight-line start: what follows may depend on it
    ("for k in ['a']:\n    x = tools.lookup(key=k)\ny = tools.lookup(key='b')\n", []),
    ("x = tools.lookup(key='a')\nif x:\n    inputs = {}\ny = tools.lookup(key='b')\n",
     [CodeCall("x", "lookup", {"key": "a"})]),
    # a missing key or index is not known; nothing is raised
    ("x = tools.lookup(key=inputs['p']['nope'])\ny = tools.lookup(key=inputs['p']['items'][9])\n", []),
    ("tools = 1\nx = tools.lookup(key='a')\n", []),
])
def test_only_what_is_known_without_running_anything_is_read(code: str, expected: list[CodeCall]) -> None:
    assert calls_so_far(code, {"p": {"items": ["a", "b"], "name": "n"}}, nothing_made) == expected


def test_a_statement_still_open_over_several_lines_waits_for_its_end() -> None:
    code = "x = tools.lookup(\n    key='a',\n"
    assert complete_statements(code) == []
    assert [type(s).__name__ for s in complete_statements(code + ")\n")] == ["Assign"]


# ------------------------------------------------------------------ in the engine


@dataclass
class ChainPackages(ScriptedPackages):
    """Runs CHAIN as the sandbox would: through the gateway, call after call."""

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        self.jobs.append(job)
        second = await tools.call("lookup", {"key": job.inputs["first"]})
        third = await tools.call("lookup", {"key": second})
        return PackageOutcome(ok=True, output=third, attempts=[PackageAttemptRecord(1, job.code, None)])


def chain_plan(code: str) -> dict[str, Any]:
    return {"nodes": [{"id": "first", "tool": "lookup", "args": {"key": "a"}},
                      {"id": "pkg", "package": {"goal": "follow the chain", "code": code}}],
            "answer": "${pkg}"}


async def _started(h: Any, key: str) -> None:
    while f"lookup:{key}:start" not in [mark for _, mark in h.log.timeline]:
        await asyncio.sleep(0.01)


async def test_a_packages_calls_start_while_its_code_is_written_and_it_takes_them_over() -> None:
    with FakeOpenAI([chain_plan(CHAIN)], hold_at="result =") as fake:
        async with over_http(MEMORY, fake, packages=(packages := ChainPackages())) as h:
            run = asyncio.create_task(h.engine.ask("pre1", "follow the chain from a"))
            # held where the code's last line begins: both calls ran, one after the other
            await asyncio.wait_for(_started(h, "value of value of a"), 10)
            assert fake.held.is_set() and not any(isinstance(e, PlanReady) for e in h.drain())
            fake.release.set()
            await run
            answer = next(e.answer for e in h.drain() if isinstance(e, AnswerReady))
            assert answer == "value of value of value of a"
            assert [args["key"] for args in h.log.args_of("lookup")] == ["a", "value of a", "value of value of a"]
            assert len(packages.jobs) == 1


async def test_calls_the_finished_code_does_not_make_are_stopped_and_red_ones_never_start() -> None:
    """The first draft's package calls a red tool (never started early) and makes a call the
    repaired plan's code does not make: that call is stopped, not waited for."""
    draft = "second = tools.lookup(key=inputs['first'], gate='g')\nx = tools.deploy(target='prod')\nresult ="
    with FakeOpenAI([chain_plan(draft + " 1\n"), chain_plan(CHAIN)], hold_at="result =") as fake:
        async with over_http(MEMORY, fake, packages=ChainPackages()) as h:
            h.log.gates["g"] = asyncio.Event()  # the draft's call waits for ever unless stopped
            run = asyncio.create_task(h.engine.ask("pre2", "follow the chain from a"))
            await asyncio.wait_for(_started(h, "value of a"), 10)
            fake.release.set()
            await asyncio.wait_for(run, 30)
            answer = next(e.answer for e in h.drain() if isinstance(e, AnswerReady))
            assert answer == "value of value of value of a"
            assert h.log.count("deploy") == 0
            marks = [mark for _, mark in h.log.timeline]
            assert marks.count("lookup:value of a:start") == 2 and marks.count("lookup:value of a:end") == 1


async def test_a_package_makes_its_calls_after_what_it_depends_on_not_before() -> None:
    """Its first call could be worked out while the plan streamed, but the package also depends
    on a node still running then (a red one, or as here a slow read): the call it makes is
    made again once that node is done, not taken from before it."""
    plan = {"nodes": [{"id": "first", "tool": "lookup", "args": {"key": "a"}},
                      {"id": "slow", "tool": "lookup", "args": {"key": "z"}},
                      {"id": "pkg", "depends_on": ["slow"],
                       "package": {"goal": "follow the chain", "code": CHAIN}}],
            "answer": "${pkg}"}
    with FakeOpenAI([plan], hold_at="result =") as fake:
        async with over_http(MEMORY, fake, packages=ChainPackages(), result_cache_seconds=0) as h:
            h.log.delays["z"] = 0.5
            run = asyncio.create_task(h.engine.ask("pre3", "after z, follow the chain from a"))
            await asyncio.wait_for(_started(h, "value of a"), 10)  # worked out from the code so far
            assert "lookup:z:end" not in [mark for _, mark in h.log.timeline]
            fake.release.set()
            await asyncio.wait_for(run, 30)
            marks = [mark for _, mark in h.log.timeline]
            assert marks.count("lookup:value of a:start") == 2
            last = max(i for i, mark in enumerate(marks) if mark == "lookup:value of a:start")
            assert marks.index("lookup:z:end") < last
