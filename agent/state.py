"""The LangGraph state of one conversation thread."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class PastRun(TypedDict):
    request: str
    answer: str
    results: dict[str, Any]
    """Node id → compact output (preview) of that run's plans: the final plan's under their
    ids, those of plans a replan replaced under ``"id (plan N)"``."""
    calls: NotRequired[dict[str, dict[str, Any]]]
    """Node id → the node in that run's last plan (``tool``, ``args``, ``each``, or ``package``;
    ``depends_on``): a follow-up's plan that reads one of them again gets that node back, when
    it is a package or its tool is green (:func:`agent.plan.validation.validate_plan`'s
    ``earlier_calls``)."""


RUNS_KEPT = 10
"""Earlier runs a thread's state keeps (prompts show the last few): a thread's state, and so
each of its checkpoints, stays bounded however long the conversation goes on."""


def recent_runs(kept: list[PastRun], new: list[PastRun]) -> list[PastRun]:
    return (kept + new)[-RUNS_KEPT:]


def recent_messages(kept: list[AnyMessage], new: list[AnyMessage]) -> list[AnyMessage]:
    merged: list[AnyMessage] = add_messages(kept, new)  # type: ignore[arg-type,assignment]
    return merged[-2 * RUNS_KEPT:]


class AgentState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], recent_messages]
    """The conversation: requests and answers, across the thread's last runs."""
    history: Annotated[list[PastRun], recent_runs]
    """Earlier runs of this thread (the last :data:`RUNS_KEPT`), so a follow-up can use their
    results."""

    # ---- the current run (reset by each new request)
    run_id: str
    queued_key: str | None
    """The queued request this run was started from (a restart must not start it again)."""
    request: str
    requested_by: str | None
    started_at: float
    draft: Any
    """The planner's latest raw output, before validation."""
    refused_tools: dict[str, str]
    """Tools the requester may not use here (the access policy), with why: hidden from the
    planner, refused by validation, unreachable from package code."""
    draft_id: str | None
    """Its id, which becomes the plan's: nodes started while it streamed are saved under it."""
    file_shapes: dict[str, str] | None
    """The shapes of the data files the request names (:mod:`agent.engine.named_file_shapes`),
    read once, when the run's first plan is written, and shown to each of its planner calls."""
    plan_problems: list[str]
    repairs: int
    plan: dict[str, Any] | None
    plan_id: str | None
    replans: int
    feedback: str | None
    results: dict[str, dict[str, Any]]
    """Node id → compact result: status, output or preview, error."""
    earlier_results: list[dict[str, dict[str, Any]]]
    """The results of this request's earlier plans, each replaced by a replan: what they did
    (a red call that ran) stands, so the joiner, a new plan and follow-ups are told."""
    made_changes: list[dict[str, Any]]
    """The changes this request's replaced plans made, each its tool and where it went: a replan
    does not make one again (:mod:`agent.plan.repeated_changes`)."""
    pending_approvals: list[str]
    replan_refused: bool
    """A replan's draft stayed invalid after its repair round: the joiner answers from the
    results of the plan before it, with no replan left."""
    computed: str | None
    """The package node dagbot added to compute the values an answer needs (once a request:
    :mod:`agent.engine.computed_values`)."""
    computing: bool
    """That node is added and has not run yet: the joiner hands the plan to the scheduler."""
    answer: str | None
    failure: str | None
    tokens: int
    nodes_run: int
