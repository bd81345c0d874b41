"""Editing a pending approval's arguments before deciding on it.

The edited arguments must fit the tool's schema; they are stored beside the plan's (which
stay as they were, so the scheduler still recognises the approval as its node's) and are
what runs if the approval is approved. An edit is once-only like a decision: it applies to
the version of the arguments its editor saw, and only while the approval is pending.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from agent.errors import ToolArgumentError
from agent.execution.context import EngineContext
from agent.ports.audit import AuditEntry, AuditKind
from agent.ports.stores import DecisionOutcome, DecisionResult, NodeStatus
from agent.tools.argument_errors import ArgumentProblem, describe, problems_in
from agent.tools.registry import Risk, ToolRegistry


def argument_problems(registry: ToolRegistry, tool: str, args: dict[str, Any]) -> dict[str, str]:
    """What does not fit the tool's schema, by argument name ('' for the arguments as a whole),
    worded as the runner words it and never quoting a secret argument's value."""
    spec = registry.get(tool)
    model = spec.args_model()
    if model is None:
        return {}
    try:
        model.model_validate(args)
    except ValidationError as exc:
        problems: dict[str, list[ArgumentProblem]] = {}
        for problem in problems_in(exc, spec.secret_args()):
            problems.setdefault(problem.argument, []).append(problem)
        return {name: describe(found) for name, found in problems.items()}
    return {}


async def edit_approval(ctx: EngineContext, approval_id: str, args: dict[str, Any], *, by: str,
                        edits: int) -> DecisionResult:
    """Replace the arguments of a pending approval (at version ``edits``) and record who did it.
    Raises ToolArgumentError when they do not fit the tool's schema."""
    approval = await ctx.approvals.get(approval_id)
    if approval is None:
        return DecisionResult(DecisionOutcome.NOT_FOUND, None)
    valid = ctx.registry.validate_args(approval.tool, args)  # (ToolArgumentError)
    if argument_problems(ctx.registry, approval.tool, valid):
        raise ToolArgumentError(f"bad arguments for '{approval.tool}'")
    result = await ctx.approvals.edit(approval_id, args=valid, by=by, edits=edits, now=ctx.clock())
    if result.outcome is DecisionOutcome.RECORDED and result.approval is not None:
        edited = result.approval
        await ctx.audit.record(AuditEntry(
            thread_id=edited.thread_id, run_id=edited.run_id, kind=AuditKind.EDIT, actor=by, detail={
                "approval_id": edited.id, "node_id": edited.node_id, "tool": edited.tool,
                "original": ctx.registry.masked(edited.tool, edited.args),
                "before": ctx.registry.masked(edited.tool, approval.approved_args),
                "edited": ctx.registry.masked(edited.tool, valid), "edits": edited.edits}))
    return result


async def edited_calls(ctx: EngineContext, thread_id: str, plan_id: str | None,
                       plan: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The red nodes of ``plan`` that ran with arguments an approver edited, each with what it
    ran with (secrets masked): node id → ``tool(args), edited by USER``. The plan's own
    arguments (and an answer it wrote for them) describe another call than the one made."""
    edited: dict[str, str] = {}
    if not plan_id:
        return edited
    red = set(ctx.registry.names(Risk.RED))
    for node in plan.get("nodes") or []:
        node_id = node.get("id")
        if node.get("tool") not in red or (results.get(node_id) or {}).get("status") != NodeStatus.DONE.value:
            continue
        approval = await ctx.approvals.latest_for_node(thread_id, plan_id, node_id)
        if approval is not None and approval.edited_args is not None:
            ran = json.dumps(ctx.registry.masked(approval.tool, approval.edited_args), ensure_ascii=False)
            edited[node_id] = f"{approval.tool}({ran}), edited by {approval.edited_by or 'an approver'}"
    return edited
