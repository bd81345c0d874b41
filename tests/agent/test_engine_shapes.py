"""Plan shapes of the split-vs-package rule (docs/plan-format.md): a chain packaged into one
node, a fan-out, a convergence and a mesh, run through the real graph and checkpointer."""

from __future__ import annotations

from agent.events import AnswerReady, NodeStarted, PackageAttempt
from tests.agent.harness import MEMORY, Harness, finish, harness


def started_after_finished(h: Harness, node: str, deps: list[str]) -> bool:
    labels = h.labels()
    start = labels.index(f"NodeStarted:{node}")
    return all(labels.index(f"NodeFinished:{dep}") < start for dep in deps)


async def test_chain_packaged_into_one_node() -> None:
    plan = {"thought": "fetch, clean and extract are one chain", "nodes": [
        {"id": "extract", "package": {"goal": "fetch and extract the title",
                                      "code": "page = tools.lookup(key='page')\nresult = page.upper()"}},
    ]}
    async with harness(MEMORY, [plan, finish("TITLE")]) as h:
        h.packages.outputs["extract"] = lambda inputs: "TITLE"
        await h.engine.ask("s1", "get the title")
        assert [j.node_id for j in h.packages.jobs] == ["extract"]
        assert h.packages.jobs[0].inputs == {}
        assert any(isinstance(e, PackageAttempt) for e in h.drain())
        state = await h.engine.state("s1")
        code = plan["nodes"][0]["package"]["code"]  # type: ignore[index]
        assert state["results"]["extract"] == {
            "status": "done", "attempts": 1, "output": "TITLE", "untrusted": "package",  # it calls a tool
            "attempt_log": [{"attempt": 1, "code": code, "error": None}]}


async def test_fan_out_runs_children_in_parallel_after_the_parent() -> None:
    plan = {"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "b", "tool": "lookup", "args": {"key": "b from ${a}", "gate": "both"}},
        {"id": "c", "tool": "lookup", "args": {"key": "c from ${a}", "gate": "both"}},
    ]}
    async with harness(MEMORY, [plan, finish("fanned out")]) as h:
        await h.engine.submit("s2", "fan out")
        # b and c are both running at once, both held at the same gate
        await h.next_event(NodeStarted, node_id="b")
        await h.next_event(NodeStarted, node_id="c")
        h.log.gates["both"].set()
        await h.engine.idle()
        assert started_after_finished(h, "b", ["a"]) and started_after_finished(h, "c", ["a"])
        assert h.log.args_of("lookup")[1:] and {a["key"] for a in h.log.args_of("lookup")[1:]} == {
            "b from value of a", "c from value of a"}


async def test_convergence_barrier_starts_c_only_after_a_and_b() -> None:
    plan = {"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "b", "tool": "lookup", "args": {"key": "b"}},
        {"id": "c", "depends_on": ["a", "b"],
         "package": {"goal": "merge", "code": "result = inputs['a'] + ' & ' + inputs['b']"}},
    ]}
    async with harness(MEMORY, [plan, finish("merged")]) as h:
        h.log.delays["b"] = 0.2
        h.packages.outputs["c"] = lambda inputs: f"{inputs['a']} & {inputs['b']}"
        await h.engine.ask("s3", "merge a and b")
        assert started_after_finished(h, "c", ["a", "b"])
        assert h.packages.jobs[0].inputs == {"a": "value of a", "b": "value of b"}
        state = await h.engine.state("s3")
        assert state["results"]["c"]["output"] == "value of a & value of b"


async def test_mesh_runs_every_node_after_its_dependencies() -> None:
    plan = {"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "b", "tool": "lookup", "args": {"key": "b"}},
        {"id": "c", "tool": "lookup", "args": {"key": "${a}+${b}"}},
        {"id": "d", "tool": "lookup", "args": {"key": "${b}"}},
        {"id": "e", "depends_on": ["c", "d"], "package": {"goal": "join", "code": "result = 1"}},
        {"id": "f", "tool": "lookup", "args": {"key": "${a}"}},
    ]}
    async with harness(MEMORY, [plan, finish("mesh done")]) as h:
        h.log.delays.update({"a": 0.05, "b": 0.15})
        h.packages.outputs["e"] = lambda inputs: sorted(inputs)
        await h.engine.ask("s4", "mesh")
        assert started_after_finished(h, "c", ["a", "b"])
        assert started_after_finished(h, "d", ["b"])
        assert started_after_finished(h, "e", ["c", "d"])
        # f needs only a: it starts before b (the slower root) has finished
        labels = h.labels()
        assert labels.index("NodeStarted:f") < labels.index("NodeFinished:b")
        assert isinstance(h.events[-1], AnswerReady)
        state = await h.engine.state("s4")
        assert state["results"]["e"]["output"] == ["c", "d"]
