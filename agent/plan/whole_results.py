"""A change's text given a tool's whole result, where a value was meant.

"Write that number to reports/count.txt" was planned as a ``search_files`` node and a
``write_file`` whose content was ``${count}``: the search's whole result (its matches, whether
it was truncated, how many files it searched) went into the file as indented JSON, and the
answer said the write was done. A text argument of a red node (what is written, a mail's body)
that holds a reference to the whole output of a node whose tool returns an object of declared
keys gets a dump of a tool's reply; a person asks for a value or a text: a field of it
(``${page.text}``) or what a package computes from it. The repair round is told so, with the
fields there are. A repaired plan that still does it has its content computed by dagbot's package
over that result (:func:`agent.engine.refed_changes.with_computed_content`), unless the request
asks for a result as it is ("save the search's results as JSON"): then it runs as it is.
"""

from __future__ import annotations

from agent.errors import PlanProblem
from agent.plan.edges import call_args
from agent.plan.format import Plan
from agent.plan.input_fields import declared_outputs
from agent.plan.references import REFERENCE, strings
from agent.tools.registry import Risk, ToolRegistry


def whole_results_in_changes(plan: Plan, registry: ToolRegistry) -> list[PlanProblem]:
    """Problems for red nodes' text arguments that take another node's whole object output."""
    outputs = declared_outputs(plan.nodes, registry)
    tools = {node.id: node.tool for node in plan.nodes}
    problems = []
    for node in plan.nodes:
        if node.tool is None or node.tool not in registry or registry.risk_of(node.tool) is not Risk.RED:
            continue
        text_args = registry.text_args(node.tool)
        calls = call_args(node)
        for arg in sorted({a for call in calls for a in call if a in text_args}):
            whole = {m.group(1) for call in calls if arg in call for text in strings(call[arg])
                     for m in REFERENCE.finditer(text) if not m.group(2) and m.group(1) in outputs}
            for ref in sorted(whole):
                keys = sorted(outputs[ref])
                problems.append(PlanProblem(node.id, f"args.{arg}", (
                    f"is ${{{ref}}}, {tools[ref]}'s whole result (an object: {', '.join(keys)}), which "
                    f"would be written out as JSON: name the field meant (${{{ref}.FIELD}}) or "
                    "compute the value asked for in a package from it")))
    return problems
