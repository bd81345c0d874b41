"""The LangGraph graph of one conversation thread.

    planner → validate ─(one repair round)→ planner
                 │ └─(still invalid)→ fail
                 ▼
             scheduler ⇄ wait          (wait parks in interrupt() until a decision)
                 ▼
              joiner ─(replan, bounded)→ planner
                 ▼
              answer
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import structlog
from langchain_core.messages import AIMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, Field

from agent.answer.change_claims import with_no_rows_note
from agent.answer.facts import facts_reply
from agent.answer.failures import NOTE as FAILURES_NOTE
from agent.answer.failures import dropped_failures, with_failures_told, with_uncomputed_told
from agent.answer.file_parts import answer_in_parts, file_parts
from agent.answer.found_in import with_file_told
from agent.answer.grounded import false_statements
from agent.answer.readable_numbers import readable_numbers
from agent.answer.shown_files import shown_file
from agent.answer.stream import SAY_WHAT, join_reply, reworded
from agent.answer.template import invented_values, templated_answer
from agent.answer.vetting import (
    CALLED,
    CODE_TO_RUN,
    COPIED_RESULTS,
    filled,
    marked_changes,
    says_nothing,
    unclaimed,
    unmade_claim,
    unreadable,
)
from agent.engine.computed_answer import (
    computed_answer_messages,
    computed_reply,
    missing_values,
    request_values,
)
from agent.engine.computed_values import computed_from, computing_plan
from agent.engine.guessed_reads import guessed_reads, missing_named, missing_reply, search_example
from agent.engine.named_file_shapes import named_file_shapes
from agent.engine.package_salvage import (
    CHANGE_FED,
    FILES_READ,
    MIXED,
    QUESTION_READ,
    REPEATED,
    salvaged_change,
    salvaged_draft,
    salvaged_file_queries,
    salvaged_question,
    salvaged_repetition,
    salvaged_together,
    without_changes,
)
from agent.engine.package_salvage import NAME as SALVAGED
from agent.engine.package_salvage import UNASKED as UNASKED_LEFT_OUT
from agent.engine.recipient_mails import MAILING_READS, mailing_reads, mails_reply, recipient_mails_plan
from agent.engine.refed_changes import refed_plan, with_computed_content, with_computed_texts
from agent.engine.refusals import (
    cannot_reply,
    commanded_impossible,
    impossible_after_repair,
    only_beyond_tools,
    only_for_the_impossible,
    without_unasked_changes,
)
from agent.engine.replans import answered_without_steps, nothing_new
from agent.engine.unread_finds import unread_finds, unread_for_values
from agent.errors import PlanError, PlanProblem
from agent.events import (
    AnswerReady,
    Planning,
    PlanReady,
    PlanRepairing,
    Replanning,
    RunEvent,
    RunFailed,
    Waiting,
)
from agent.execution.address_book import address_book, owner_of
from agent.execution.approval_edits import edited_calls
from agent.execution.context import EngineContext
from agent.execution.early_start import discard as discard_early_starts
from agent.execution.early_start import plan_reply
from agent.execution.scheduler import PlanExecutor, RunIdentity
from agent.model.context_window import TOO_LONG_FOR_MODEL, exceeds_context
from agent.model.cron_schedules import cron_schedules_section
from agent.model.llm import LLMUnavailable, TextReply
from agent.model.matching_lines import matching_lines_reply, pasted_other_lines
from agent.model.named_rows import corrected, misread_cells
from agent.model.prompt_budget import clip_end
from agent.model.prompting import joiner_messages, planner_messages
from agent.model.reply_marks import was_cut_off, was_repeating
from agent.model.tool_schemas import as_tool
from agent.model.written_calls import WrittenCall, written_calls
from agent.plan.asked_changes import (
    changes_in_a_question,
    reads_of,
    red_effects,
    unasked_changes,
    unwarranted_refusal,
    with_reads_of,
)
from agent.plan.format import Plan
from agent.plan.grounding import ungrounded_changes, without_nodes, without_unnamed_options
from agent.plan.named_files import (
    READ_FILE,
    named_files,
    unread_file_names,
    unread_in_draft,
    unread_named_files,
)
from agent.plan.pointed_recipients import misdirected, pointed_addresses, redirected, sends_to_them
from agent.plan.references import referenced_ids
from agent.plan.refused_calls import (
    reads_of_the_named_file,
    refused_calls,
    refused_in_draft,
    without_refused_reads,
)
from agent.plan.repeated_changes import made_changes, repeated_changes
from agent.plan.sql_values import unnamed_sql_values, without_unnamed_filters
from agent.plan.uncomputed import asked_values, computed_nothing, searched_data_files, uncomputed_reads
from agent.plan.unfed_changes import computable_statements, stated_values, unfed_changes
from agent.plan.unmade_changes import unmade_feedback, unmade_problems
from agent.plan.validation import validated_plan
from agent.plan.whole_results import whole_results_in_changes
from agent.ports.audit import SYSTEM, AuditEntry, AuditKind, masked_plan
from agent.ports.stores import NodeStatus
from agent.state import AgentState, PastRun
from agent.tools.effects import asked_effects
from agent.tools.registry import Risk, ToolRegistry

Ctx = Runtime[EngineContext]
log = structlog.get_logger(__name__)


class Replan(BaseModel):
    """Run a new plan instead of answering."""

    feedback: str = Field(description="What the next plan must change.")


REPLAN = "replan"
"""The one tool the joiner is offered, while replans are left; the text of its reply is the answer."""


def current_thread() -> str:
    return str(get_config()["configurable"]["thread_id"])


async def _emit(runtime: Ctx, state: AgentState, event_type: type[RunEvent], **fields: Any) -> None:
    await runtime.context.events.publish(
        event_type(thread_id=current_thread(), run_id=state.get("run_id", ""), **fields)
    )


async def _audit(runtime: Ctx, state: AgentState, kind: AuditKind, actor: str | None,
                 **detail: Any) -> None:
    await runtime.context.audit.record(AuditEntry(
        thread_id=current_thread(), run_id=state.get("run_id", ""), kind=kind, actor=actor, detail=detail))


async def planner(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    audited: asyncio.Task[None] | None = None
    if not state.get("plan_problems"):
        await _emit(runtime, state, Planning, request=state["request"],
                    replan=state.get("replans", 0))
        if not state.get("replans"):  # recorded while the model plans, before the step ends
            audited = asyncio.create_task(_audit(runtime, state, AuditKind.REQUEST,
                                                 state.get("requested_by"), request=state["request"]))
    try:
        return await _plan(runtime, state)
    finally:
        if audited is not None:
            await audited


async def _plan(runtime: Ctx, state: AgentState) -> dict[str, Any]:
    ctx = runtime.context
    refused = await ctx.access.refused_tools(current_thread(), state.get("requested_by"),
                                             ctx.registry.names())
    draft_ran = {}  # a repair round: what the invalid draft's green nodes already returned
    early = ctx.state.early_starts.get((current_thread(), state["run_id"]))
    if state.get("plan_problems") and early is not None:
        draft_ran = early.finished()
    shapes = state.get("file_shapes")
    if shapes is None:
        shapes = await named_file_shapes(state["request"], ctx.registry, refused) \
            if ctx.settings.file_shapes else {}
    messages = planner_messages(state, ctx.registry.without(refused), ctx.settings.plan_limits.max_nodes,
                                ctx.settings.prompt_chars, ctx.settings.plan_output, draft_ran, shapes)
    draft_id = uuid.uuid4().hex  # the plan's id if it validates: nodes may start before that
    try:
        reply = await plan_reply(ctx, messages, RunIdentity(
            thread_id=current_thread(), run_id=state["run_id"], plan_id=draft_id,
            requested_by=state.get("requested_by"), refused_tools=refused, request=state["request"].strip(),
            follows=_request_before(state)), refused)
    except LLMUnavailable as exc:  # shown: its class and status; logged: the rest, scrubbed
        log.warning("the planner model failed", error=ctx.redactor(exc.detail))
        if exceeds_context(exc):
            return {"failure": TOO_LONG_FOR_MODEL}
        return {"failure": (
            f"I could not reach the planner model ({exc}). Check OPENAI_BASE_URL, OPENAI_API_KEY "
            "and DAGBOT_MODEL, then ask again.")}
    return {"draft": reply.data, "draft_id": draft_id, "tokens": state.get("tokens", 0) + reply.tokens,
            "refused_tools": refused, "file_shapes": shapes}


async def validate(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    mends: tuple[str, ...] = ()
    try:
        try:
            plan, mends = await _validated(state, runtime)
        except PlanError as exc:
            if (saved := await _valid_salvage(state, runtime, exc)) is None:
                raise  # the draft's own problems are what the user is told
            plan, mends, salvage = saved
            mends = (*mends, salvage)
            log.info("the plan stayed broken; one package computes the request from its reads",
                     salvage=salvage, problems=[str(p) for p in exc.problems])
    except PlanError as exc:
        last_round = state.get("repairs", 0) >= 1 or only_beyond_tools(state.get("draft"))
        beyond = (last_round and cannot_reply(exc.problems, ctx.registry.names(Risk.RED))) or \
            only_for_the_impossible(state.get("draft"), exc.problems, state["request"], ctx.registry) or \
            (state.get("repairs", 0) >= 1 and not state.get("results")
             and impossible_after_repair(state["request"], ctx.registry))
        if not beyond:
            if state.get("repairs", 0) >= 1 and state.get("results"):
                return await _replan_refused(state, runtime, exc)
            known = _thread_so_far(state)
            also = [] if last_round else [  # (faults found in a draft that is no plan)
                *unread_in_draft(state.get("draft"), state["request"], ctx.registry, known),
                *refused_in_draft(state.get("draft"), state["request"], ctx.registry,
                                  ctx.settings.plan_limits, known)]
            told = {str(p) for p in exc.problems}
            return await _refused(state, runtime, PlanError(
                [*exc.problems, *(p for p in also if str(p) not in told)]))
        plan = Plan(nodes=[], answer=beyond + ran_before(all_results(state)))  # what no tool does: the reply
    made = _made_so_far(state, ctx.registry)
    if made and (repeated := repeated_changes(plan, made, ctx.registry)):
        if (kept := without_nodes(plan, repeated)) is None or not kept.nodes:
            return await _replan_refused(state, runtime, PlanError(repeated))
        log.info("left out changes this request made already", nodes=[p.node for p in repeated])
        plan = kept
    plan_dict = plan.model_dump(exclude_none=True, exclude_defaults=True)
    plan_id = state.get("draft_id") or uuid.uuid4().hex
    await _audit(runtime, state, AuditKind.PLAN, SYSTEM, plan_id=plan_id, mends=list(mends),
                 plan=masked_plan(plan_dict, ctx.registry), requested_by=state.get("requested_by"))
    await _emit(runtime, state, PlanReady, plan=plan_dict, mends=mends)
    earlier = list(state.get("earlier_results") or [])
    if state.get("results"):  # a replan: the plan it replaces ran
        red = ctx.registry.names(Risk.RED)
        earlier.append(marked_changes(state.get("plan") or {}, state["results"], red))
    return {"plan": plan_dict, "plan_id": plan_id, "plan_problems": [], "results": {},
            "earlier_results": earlier, "pending_approvals": [], "replan_refused": False,
            "made_changes": made}


def _made_so_far(state: AgentState, registry: ToolRegistry) -> list[dict[str, Any]]:
    """The changes this request's plans made (:mod:`agent.plan.repeated_changes`): those of the
    plans replaced before, and of the plan a replan replaces now."""
    made = list(state.get("made_changes") or [])
    if state.get("results"):  # a replan: the plan it replaces ran
        made += made_changes(state.get("plan") or {}, state["results"], registry)
    return made


def _request_before(state: AgentState) -> str:
    """The thread's request before this one, with the start of its answer ("" for the first): a
    follow-up leans on both ("put that queue's depth in reports/depth.txt" means the queue the
    answer named, which a query written from the request before alone did not know: unseen
    follow-up-queue-depth wrote the deepest queue's)."""
    earlier = state.get("history") or []
    if not earlier:
        return ""
    request = str(earlier[-1]["request"]).strip()
    # (not the note of what failed: its words are no values the answer named, "failed" among them,
    # which a query for "how big was it?" was told to filter on; aimed follow-up-longest-snapshot)
    answer = " ".join(str(earlier[-1].get("answer") or "").split(FAILURES_NOTE)[0].split())
    return f"{request} (its answer: {clip_end(answer, _ANSWER_BEFORE)})" if answer else request


_ANSWER_BEFORE = 300
"""How much of the answer before a follow-up its packages are shown."""


def _salvaged(state: AgentState, runtime: Ctx, exc: PlanError) -> tuple[dict[str, Any], str] | None:
    """After the repair round, a draft whose only problems are its packages', a change's
    content wired to nothing, or a loop it was stopped in: its reads and one package computing
    the request (:mod:`agent.engine.package_salvage`), with the mend's name; None otherwise."""
    if state.get("repairs", 0) < 1 or state.get("results") or runtime.context.packages is None:
        return None
    draft, follows = state.get("draft"), _request_before(state) or None
    red = runtime.context.registry.names(Risk.RED)
    if (unlooped := salvaged_repetition(draft, state["request"], red, follows)) is not None:
        return unlooped, REPEATED
    problems: Sequence[PlanProblem] = exc.problems
    if not asked_effects(state["request"]) and (unasked := without_changes(draft, problems, red)) is not None:
        draft, problems = unasked  # (a change the request never asked for is no part of what to salvage)
        if not problems:  # its problems were all the change's: the rest stands as drafted
            return draft, UNASKED_LEFT_OUT
    earlier = state.get("history") or []
    thread_files = sorted(named_files(str(earlier[-1]["request"]))) if earlier else []
    mailing = mailing_reads(draft, list(problems), state["request"], runtime.context.registry, thread_files)
    if mailing is not None:
        return mailing, MAILING_READS
    if (salvaged := salvaged_draft(draft, problems, state["request"], follows)) is not None:
        return salvaged, SALVAGED
    if (fed := salvaged_change(draft, problems, state["request"], red, follows)) is not None:
        return fed, CHANGE_FED
    if (read := salvaged_file_queries(draft, problems, state["request"], red, follows)) is not None:
        return read, FILES_READ
    if (together := salvaged_together(draft, problems, state["request"], red, follows)) is not None:
        return together, MIXED
    return None


async def _valid_salvage(state: AgentState, runtime: Ctx,
                         exc: PlanError) -> tuple[Plan, tuple[str, ...], str] | None:
    """The first salvage of the draft that validates (:func:`_salvaged`, then
    :func:`_asked_of_files`), with its mends and its name; None when none does."""
    for found in (_salvaged(state, runtime, exc), _asked_of_files(state, runtime)):
        if found is None:
            continue
        try:
            plan, mends = await _validated({**state, "draft": found[0]}, runtime)
        except PlanError:
            continue
        return plan, mends, found[1]
    return None


def _asked_of_files(state: AgentState, runtime: Ctx) -> tuple[dict[str, Any], str] | None:
    """After the repair round, for a request that asks for no change and names workspace files,
    when nothing of :func:`_salvaged` made a valid plan: their reads and one package computing
    the request (:func:`agent.engine.package_salvage.salvaged_question`); None otherwise."""
    if state.get("repairs", 0) < 1 or state.get("results") or runtime.context.packages is None \
            or asked_effects(state["request"]) or READ_FILE not in runtime.context.registry:
        return None
    asked = salvaged_question(state["request"], sorted(named_files(state["request"])),
                              _request_before(state) or None)
    return None if asked is None else (asked, QUESTION_READ)


async def _validated(state: AgentState, runtime: Ctx) -> tuple[Plan, tuple[str, ...]]:
    """The draft as a valid plan, its changes grounded in the request, and the mends that made
    it; or :class:`PlanError`."""
    ctx = runtime.context
    last_round = state.get("repairs", 0) >= 1
    known = _thread_so_far(state)
    validated = validated_plan(state.get("draft"), ctx.registry, ctx.settings.plan_limits,
                               refused=state.get("refused_tools") or {}, code_faults_to_sandbox=last_round,
                               earlier_calls=earlier_calls(state), request=state["request"], known=known)
    plan, mends = validated.plan, validated.mends
    if mends:  # (names only: arguments may hold secrets)
        log.info("mended the model's plan", mends=list(mends))
    pointed = _pointed(state)
    if (astray := misdirected(plan, ctx.registry, pointed)) and not last_round:
        raise PlanError(astray)
    if astray and (sent := redirected(plan, astray, pointed)) is not None:
        log.info("a change sent to them goes to whom the answer before named",
                 problems=[str(p) for p in astray])
        plan = sent
    if (elsewhere := ungrounded_changes(plan, ctx.registry, state["request"], known)) and last_round:
        plan, elsewhere = without_unnamed_options(plan, elsewhere, ctx.registry)
        if not elsewhere:
            log.info("left out optional targets the request did not name")
    if elsewhere:
        kept = without_nodes(plan, elsewhere) if last_round else None
        if kept is None:
            raise PlanError(elsewhere)
        log.info("left out changes the request did not ask for", problems=[str(p) for p in elsewhere])
        plan = kept
    if unasked := unasked_changes(plan, ctx.registry, state["request"]):
        plan = without_unasked_changes(plan, unasked, state["request"], ctx.registry, last_round)
    if questioned := changes_in_a_question(plan, ctx.registry, state["request"]):
        kept = without_nodes(plan, questioned)
        if kept is None:  # (something goes on from it: the repair round's to untangle)
            raise PlanError(questioned)
        log.info("left out changes a question did not ask for", problems=[str(p) for p in questioned])
        plan = kept
    if plan.nodes and (cannot := commanded_impossible(plan, state["request"], ctx.registry)):
        return Plan(nodes=[], answer=cannot), mends
    if (unread := unread_named_files(plan, state["request"], ctx.registry, known)) and not last_round:
        raise PlanError(unread)
    if unread:  # (the repaired plan: the files it leaves unread are read beside it, unless package
        # code names them: it may read them through tools.read_file)
        codes = [node.package.code for node in plan.nodes if node.package is not None]
        unread_files = [name for name in unread_file_names(plan, state["request"], ctx.registry, known)
                        if not any(name in code for code in codes)]
        if unread_files and len(plan.nodes) + len(unread_files) <= ctx.settings.plan_limits.max_nodes:
            log.info("read the files the request names that the repaired plan still did not",
                     files=unread_files)
            plan = with_reads_of(plan, unread_files)
    here = sorted(named_files(state["request"]))
    files = here or sorted(named_files(_request_before(state)))
    refusal = unwarranted_refusal(plan, state["request"], ctx.registry, files, named_here=bool(here))
    if refusal and not last_round:
        raise PlanError(refusal)
    if refusal:  # (said "I can't" again: the reads it was told to plan, and the joiner answers from them)
        log.info("the repaired plan still said it can't to a request for no change; reading its files",
                 files=files)
        plan = Plan(nodes=reads_of(files))
    if (refused := refused_calls(plan, state["request"], ctx.registry, known)) and not last_round:
        raise PlanError(refused)
    if refused and (read := reads_of_the_named_file(
            plan, refused, unread_file_names(plan, state["request"], ctx.registry), ctx.registry)):
        log.info("read the file the request names in place of a read it would refuse",
                 problems=[str(p) for p in refused])
        plan = read
    elif refused and (kept := without_refused_reads(plan, refused, ctx.registry)) is not None:
        # (told once and written again: the read would only fail, unseen follow-up-lock-timeout's FROM logs)
        log.info("left out reads their tools would refuse", problems=[str(p) for p in refused])
        plan = kept
    if (dumped := whole_results_in_changes(plan, ctx.registry)) and not last_round:
        raise PlanError(dumped)
    if dumped and ctx.packages is not None and (fed := with_computed_content(
            plan, dumped, state["request"], _request_before(state) or None)) is not None:
        log.info("a change still takes a tool's whole result; dagbot computes its content", problems=[
            str(p) for p in dumped])
        plan = fed
    if (unfed := unfed_changes(plan, ctx.registry, state["request"], known)) and not last_round:
        raise PlanError(unfed)
    if (stated := stated_values(plan, ctx.registry, state["request"], known)) and not last_round:
        raise PlanError(stated)
    if (stated := computable_statements(plan, stated, ctx.registry)) and ctx.packages is not None and (
            computed := with_computed_texts(plan, stated, state["request"], ctx.registry.names(Risk.RED),
                                            _request_before(state) or None)
    ) is not None:
        log.info("a change still states a value no result holds; dagbot computes its text",
                 problems=[str(p) for p in stated])
        plan = computed
    if (unnamed := unnamed_sql_values(plan, ctx.registry, state["request"], known)) and not last_round:
        raise PlanError(unnamed)
    if unnamed and (filtered := without_unnamed_filters(plan, ctx.registry, state["request"], known)) != plan:
        log.info("left out a query's filters on values nobody named", problems=[str(p) for p in unnamed])
        plan = filtered
    if (unmade := unmade_problems(plan.model_dump(exclude_none=True), _with_pointed(state), ctx.registry)) \
            and not last_round:
        raise PlanError(unmade)
    return plan, mends


async def _refused(state: AgentState, runtime: Ctx, exc: PlanError) -> dict[str, Any]:
    """A repair round for an invalid draft, or, after it, the run's end saying why."""
    problems = [str(p) for p in exc.problems]
    if state.get("repairs", 0) < 1:
        await _emit(runtime, state, PlanRepairing, problems=problems)
        return {"plan_problems": problems, "repairs": state.get("repairs", 0) + 1}
    await _audit(runtime, state, AuditKind.PLAN_REFUSED, SYSTEM, problems=problems,
                 requested_by=state.get("requested_by"))
    if was_repeating(state.get("draft")):
        return {"plan_problems": problems, "failure": (
            "I could not make a plan for this request: the model wrote the same part of the plan "
            "again and again, even when told so. Try rephrasing the request or splitting it up."
            + ran_before(all_results(state)))}
    if was_cut_off(state.get("draft")):  # its JSON error would only say where it stopped
        return {"plan_problems": problems, "failure": (
            "I could not make a plan for this request: the plan was too long for the model's "
            "output limit, even when asked for a shorter one. Split the request into smaller "
            "ones (ask for part of it, then the rest as a follow-up in this thread)."
            + ran_before(all_results(state)))}
    listed = "\n".join(f"• {p}" for p in problems[:10])
    return {"plan_problems": problems, "failure": (
        "I could not make a valid plan for this request, even after one repair round. "
        f"The problems were:\n{listed}\nTry rephrasing the request or splitting it up."
        + ran_before(all_results(state)))}


async def _replan_refused(state: AgentState, runtime: Ctx, exc: PlanError) -> dict[str, Any]:
    """A replan still invalid after its repair round loses nothing: the plan before it ran, and
    the joiner answers from its results with no replan left (bench.quality oncall-and-incidents:
    every fact was in hand, the joiner asked for a replan, and the replan's broken package ended
    the run with a list of its faults)."""
    problems = [str(p) for p in exc.problems]
    await _audit(runtime, state, AuditKind.PLAN_REFUSED, SYSTEM, problems=problems,
                 requested_by=state.get("requested_by"))
    log.info("the replan stayed invalid; answering from the results in hand", problems=problems)
    discard_early_starts(runtime.context, current_thread(), state.get("run_id", ""))
    return {"plan_problems": [], "replan_refused": True, "replans": runtime.context.settings.max_replans}


def _pointed(state: AgentState) -> list[str]:
    """The addresses a follow-up sending to "them" means: those the answer before named, or the
    address its results hold for the one person it named (:func:`_named_person`)."""
    earlier = state.get("history") or []
    pointed = pointed_addresses(state["request"], str(earlier[-1].get("answer") or "") if earlier else "")
    if not pointed and earlier and (named := _named_person(state["request"], earlier[-1])):
        pointed = [named]  # (the answer before named them, and its results hold their address)
    return pointed


def _with_pointed(state: AgentState) -> str:
    """The request with the addresses its "them" means after it: the target a change it commands
    names (:mod:`agent.plan.unmade_changes`). "Email them api-3's address", after an answer that
    named the incident's assignee, was planned as a read alone, and nothing was sent (weekend
    follow-up-mail-assignee): a mail to them is a change asked for, like a mail to an address."""
    return " ".join([state["request"], *_pointed(state)])


def _named_person(request: str, before: Mapping[str, Any]) -> str | None:
    """The address of the one person the answer before named, by the names the results of that
    run hold with their addresses, when ``request`` sends to "them" and names no address:
    "Who is assigned to the incident that is still triggered?" answered "Maja Lindgren", then
    "email them api-3's address" was planned as a mail to api-3@example.net (weekend
    follow-up-mail-assignee); the incidents file held her address beside her name."""
    if not sends_to_them(request):
        return None
    outputs = [result.get("output") for result in (before.get("results") or {}).values()
               if isinstance(result, Mapping) and result.get("status") == NodeStatus.DONE.value]
    return owner_of(str(before.get("answer") or ""), address_book(o for o in outputs if o is not None))


def _thread_so_far(state: AgentState) -> list[Any]:
    """What the thread already names: earlier requests, answers and results, this request's.
    A result names what it gave (its output, preview or error), never the code or the queries
    behind it: a package's code holds numbers of its own (``100_000``), and an answer that
    states one states a value from nowhere."""
    earlier = [[run["request"], run["answer"], _given(run["results"])] for run in state.get("history", [])]
    return [*earlier, _given(all_results(state))]


def _given(results: Mapping[str, Any]) -> dict[str, Any]:
    """What each result gave, by node id: its status and its output (or preview) or its error
    (the thread's values a follow-up may name, :mod:`agent.plan.mends.thread_values`, are the
    outputs of nodes that are done)."""
    return {node_id: {key: result[key] for key in ("status", "output", "preview", "error") if key in result}
            for node_id, result in results.items() if isinstance(result, Mapping)}


def all_results(state: AgentState) -> dict[str, dict[str, Any]]:
    """The results of every plan of this request: the earlier plans' under ``"id (plan N)"``."""
    merged = {f"{node_id} (plan {number})": result
              for number, results in enumerate(state.get("earlier_results") or [], 1)
              for node_id, result in results.items()}
    return {**merged, **(state.get("results") or {})}


def ran_before(results: dict[str, dict[str, Any]]) -> str:
    """For a failure: what already ran for this request (and stays done)."""
    ran = [node_id for node_id, result in results.items() if result.get("status") == NodeStatus.DONE.value]
    return f"\nWhat ran before stays done: {', '.join(f'`{n}`' for n in ran)}." if ran else ""


def after_validate(state: AgentState) -> str:
    if state.get("failure"):
        return "fail"
    if state.get("replan_refused"):
        return "joiner"
    return "planner" if state.get("plan_problems") else "scheduler"


async def scheduler(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    plan = Plan.model_validate(state["plan"])
    ident = RunIdentity(thread_id=current_thread(), run_id=state["run_id"],
                        plan_id=str(state["plan_id"]), requested_by=state.get("requested_by"),
                        refused_tools=dict(state.get("refused_tools") or {}),
                        request=state["request"].strip(), follows=_request_before(state))
    report = await PlanExecutor(ctx, plan, ident).run()
    update: dict[str, Any] = {
        "results": report.results, "pending_approvals": report.pending_approvals,
        "nodes_run": state.get("nodes_run", 0) + newly_run(state.get("results") or {}, report.results),
        "computing": False,
    }
    if report.cancelled:
        update["failure"] = "The run was cancelled; nothing more will run for it."
    elif report.pending_approvals:
        await _emit(runtime, state, Waiting, pending=report.pending_approvals)
    return update


def newly_run(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> int:
    """Nodes that ran (done or failed) since the last scheduler pass: dispatched by it, or
    started by the runner as a decision came in."""
    ran = {NodeStatus.DONE.value, NodeStatus.FAILED.value}
    return sum(1 for node_id, result in after.items()
               if result["status"] in ran and before.get(node_id, {}).get("status") not in ran)


def after_scheduler(state: AgentState) -> str:
    if state.get("failure"):
        return "fail"
    return "wait" if state.get("pending_approvals") else "joiner"


def wait(state: AgentState) -> dict[str, Any]:
    """Quiescence: only approvals remain. The thread parks here, durably, until woken."""
    interrupt({"pending_approvals": state.get("pending_approvals", [])})
    return {"pending_approvals": []}


async def joiner(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    """The answer: the model's text (Markdown), streamed as it comes, or a new plan if it calls
    ``replan`` (offered while replans are left). No usable text: the results as they are."""
    ctx = runtime.context
    replans = state.get("replans", 0)
    # (a replan's plan with no node and the model's sentence alone: the joiner answers from what ran)
    alone = answered_without_steps(state)
    replans_left = 0 if nothing_new(state) or alone else ctx.settings.max_replans - replans
    tokens = state.get("tokens", 0)
    # a red call an approver edited is not the call the plan (and any answer it wrote) describes
    edited = await edited_calls(ctx, current_thread(), state.get("plan_id"), state.get("plan") or {},
                                state.get("results") or {})
    this_plans = state.get("results") or {}
    rejected = any(r.get("status") == NodeStatus.REJECTED for r in this_plans.values())
    if (gone := missing_named(state["request"], this_plans)) and not state.get("earlier_results"):
        if not any(r.get("status") == NodeStatus.DONE.value for r in this_plans.values()):
            log.info("what the request names is not there; that is the answer", missing=gone)
            return {"answer": with_failures_told(missing_reply(this_plans), state.get("plan") or {},
                                                 _failures_to_tell(state))}
        replans_left = 0  # (the rest is answered, and the missing told: no replan looks elsewhere)
    if not rejected and (refeeding := await _refeeding(state, runtime)):
        log.info("a change was skipped because the packages computing its content failed; dagbot computes it")
        return refeeding
    if not rejected and (mails := recipient_mails_plan(state.get("plan") or {}, this_plans, state["request"],
                                                       ctx.registry, _pointed(state))):
        plan, listing = mails
        log.info("the request mails recipients the results name; one approved mail each" if listing is None
                 else "the request mails recipients the results name; listing who gets what")
        return await _with_computing(state, runtime, plan, listing or state.get("computed") or "")
    if (mailed := mails_reply(state.get("plan") or {}, this_plans)) is not None:
        return {"answer": with_failures_told(mailed, state.get("plan") or {}, _failures_to_tell(state))}
    if replans_left > 0 and not rejected and (feedback := unread_finds(
            state["request"], state.get("plan") or {}, all_results(state), state.get("history", []),
            ctx.registry.names())):
        log.info("a search found files the request asks to read, and nothing read them")
        await _emit(runtime, state, Replanning, feedback=feedback, replan=replans + 1)
        return {"feedback": feedback, "replans": replans + 1, "repairs": 0, "plan_problems": []}
    if replans_left > 0 and not rejected and (feedback := guessed_reads(
            state["request"], state.get("plan") or {}, this_plans, state.get("history", []),
            ctx.registry.names())):
        log.info("a read of a path nobody named found no file; looking for it")
        await _emit(runtime, state, Replanning, feedback=feedback, replan=replans + 1)
        return {"feedback": feedback, "replans": replans + 1, "repairs": 0, "plan_problems": []}
    ran = Plan.model_validate(state.get("plan") or {"nodes": []})
    uncomputed = uncomputed_reads(ran, ctx.registry, state["request"], this_plans)
    if not rejected and uncomputed and (computing := await _computing(state, runtime)):
        log.info("the plan only read what the request asks to compute; computing it", nodes=uncomputed)
        return computing  # (before the joiner's model adds rows in its head)
    if (empty := computed_nothing(ran, ctx.registry, state["request"], this_plans)) and \
            (computing := await _computing(state, runtime)):
        log.info("the plan's packages gave nothing (found nothing, failed, skipped, or rewritten from a goal "
                 "alone); computing the request", nodes=empty)
        return computing
    before = str(state["history"][-1]["request"]) if state.get("history") else ""
    searched = [] if rejected else searched_data_files(ran, ctx.registry, state["request"], this_plans,
                                                       before)
    if searched and (computing := await _computing(state, runtime, reads=searched)):
        log.info("a search matched nothing in the data files it looked through; reading and computing them",
                 files=searched)
        return computing
    # (after the values are computed: the replan is shown them, and told the change's node with
    # them; planned before, monday mail-high-ack's replan referred to a search's made-up field)
    if replans_left > 0 and not rejected and (feedback := unmade_feedback(
            state.get("plan") or {}, this_plans, _with_pointed(state), ctx.registry)):
        log.info("the plan that ran made no change the request commands; planning it", feedback=feedback)
        await _emit(runtime, state, Replanning, feedback=feedback, replan=replans + 1)
        return {"feedback": feedback, "replans": replans + 1, "repairs": 0, "plan_problems": []}
    computed = _computed(state)
    # (values dagbot computed: the joiner words them, and the plan's sentence is no longer the answer)
    red = ctx.registry.names(Risk.RED)
    shown = None if edited or computed else shown_file(state["request"], state.get("plan") or {}, this_plans)
    if shown is not None:  # "show me x.csv": the file as read is the answer
        return {"answer": with_failures_told(shown, state.get("plan") or {}, _failures_to_tell(state))}
    templated = None if edited or computed or alone else templated_answer(state.get("plan") or {}, this_plans)
    if templated is not None:  # the planner wrote the reply: no second model call
        return {"answer": with_failures_told(unclaimed(templated, state, red, red_effects(ctx.registry)),
                                             state.get("plan") or {},
                                             _failures_to_tell(state))}
    # values computed for the request itself: the joiner words them, with no replan to offer
    values = [] if edited or rejected else request_values(state.get("plan") or {}, this_plans, red)
    if values:
        replans_left = 0
        log.info("the request's values were computed for it; the joiner words them",
                 nodes=[value.node_id for value in values])
    tools = [as_tool(Replan, REPLAN)] if replans_left > 0 else []  # none left: a plain completion
    reply: TextReply | None
    fallback_note = ""
    # a question per file (", and what … in y.txt?"): each answered from its own file's read
    parts = [] if values or edited or rejected else file_parts(state["request"], state.get("plan") or {},
                                                               this_plans)
    try:
        messages = computed_answer_messages(state, values) if values else joiner_messages(
            state, replans_left, ctx.settings.prompt_chars, red, edited,
            computed_from(state.get("plan") or {}, state.get("results") or {}))
        parted = await answer_in_parts(ctx, state, parts, red, thread_id=current_thread(),
                                       run_id=state.get("run_id", "")) if parts else None
        tokens += parted.tokens if parted is not None else 0
        if parted is not None and parted.text:
            log.info("the request asks a question of each file it names; each answered from its file",
                     files=[part.path for part in parts])
            reply = parted
        else:
            reply = await join_reply(ctx, messages, tools,
                                     thread_id=current_thread(), run_id=state.get("run_id", ""))
            tokens += reply.tokens
    except LLMUnavailable as exc:
        log.warning("the joiner model failed; answering with the results", error=ctx.redactor(exc.detail))
        reply = None
        fallback_note = f"\n\n{TOO_LONG_FOR_MODEL}" if exceeds_context(exc) else ""
    call = next((c for c in reply.tool_calls if c["name"] == REPLAN), None) if reply else None
    feedback = None
    if call is not None and replans_left > 0:  # a replan wins over any text written before it
        feedback = str(call["args"].get("feedback") or "").strip() \
            or "The previous plan did not achieve the request."
    results = all_results(state)
    answer = filled(reply.text.strip(), results) if reply else ""
    unusable = None if feedback else unreadable(answer, results, state["request"])
    if unusable == COPIED_RESULTS and reply is not None and (worded := await reworded(
            ctx, messages, reply.text, thread_id=current_thread(), run_id=state.get("run_id", ""))):
        tokens += worded.tokens
        second = filled(worded.text.strip(), results)
        if second and unreadable(second, results, state["request"]) is None:
            log.info("the joiner pasted the results list; its second reply words them")
            answer, unusable, reply = second, None, worded
    if unusable is None and not feedback and not rejected and reply is not None \
            and says_nothing(answer, results, state["request"]) and (worded := await reworded(
                ctx, messages, reply.text, thread_id=current_thread(), run_id=state.get("run_id", ""),
                told=SAY_WHAT)):
        tokens += worded.tokens
        second = filled(worded.text.strip(), results)
        if second and unreadable(second, results, state["request"]) is None \
                and not says_nothing(second, results, state["request"]):
            log.info("the joiner's answer said nothing the results hold; its second reply says it")
            answer, reply = second, worded
        elif (lines := matching_lines_reply(state["request"], results)) is not None:
            log.info("the joiner's answers said nothing the results hold; dagbot shows the lines that match")
            answer = lines
    if unusable is None and not feedback and answer and pasted_other_lines(
            answer, state["request"], results) and (lines := matching_lines_reply(state["request"], results)):
        log.info("the joiner pasted lines of a read other than those matching the request; showing those")
        answer = lines
    if unusable == COPIED_RESULTS and replans_left > 0 and not rejected and (
            reading := _unread_for(unusable, state, ctx)):
        # (what it pasted was a search's matched lines: the files they are in hold the answer)
        log.info("the joiner pasted the results twice, and a search found files nothing read; reading them")
        await _emit(runtime, state, Replanning, feedback=reading, replan=replans + 1)
        return {"feedback": reading, "replans": replans + 1, "repairs": 0, "plan_problems": [],
                "tokens": tokens}
    if unusable == COPIED_RESULTS and not rejected and asked_values(state["request"]) and (
            computing := await _computing(state, runtime)):
        # (twice it pasted the reads: the values the request asks, computed, are what it words;
        # evening memory-and-relay pasted a metrics file and a Postfix config. A request that
        # asks nothing computed is shown its results by dagbot: tuning list-files, a package
        # "computing" the list of files found none)
        log.info("the joiner pasted the results twice; computing what the request asks")
        return {**computing, "tokens": tokens}
    if unusable is not None:  # a call or a reference written out is no answer for a person
        log.info("the joiner's answer was not usable", why=unusable)
        again = all(_made_already(call, state) for call in written_calls(answer)[0])
        answer = ""
        # (a call this plan already made is no step left to plan: a small model wrote out the
        # write_file it had just run, and the replan wrote the file a second time, wrongly)
        if replans_left > 0 and unusable.startswith(CALLED) and not again:
            feedback = f"The answer was not written: {unusable}. Plan that step as a node."
        elif replans_left > 0 and unusable == CODE_TO_RUN and not rejected:
            feedback = (f"The answer was not sent: {unusable}. Plan a package node that computes the "
                        "value from what the plan reads (read it first, if no node does), and refer to "
                        "that node's result in the answer.")
    invented = None if feedback or computed else invented_values(answer, state.get("plan") or {}, this_plans)
    if invented is not None and not rejected and (computing := await _computing(state, runtime)):
        log.info("the joiner filled the plan's sentence with a value no result holds; computing it",
                 why=invented)
        return {**computing, "tokens": tokens}
    if invented is not None:  # the plan's sentence completed from nowhere: plan again, or say so
        log.info("the joiner filled the plan's sentence with a value no result holds", why=invented)
        answer = f"I could not complete that: {invented}."
        if replans_left > 0 and not rejected:  # (never planned again: what a human rejected)
            feedback = (f"The results hold no value for the answer's sentence ({invented}). Plan what "
                        "gets it: read the file or page that holds it, or compute it in a package.")
    if values and answer and (missing := missing_values(answer, values)):
        log.info("the joiner's answer left computed values out; dagbot words them", missing=missing)
        answer = computed_reply(values)
    stated = [] if feedback is not None or not answer else false_statements(
        answer, results, tools=ctx.registry.names(),
        known=[state["request"], *_thread_so_far(state),
               cron_schedules_section(state.get("plan") or {}, results)])  # (dagbot's crontab words)
    if values and stated:  # (computed for the request already: its values, as computed)
        log.info("the joiner's answer states what no result holds; dagbot words the computed values",
                 why=[s.why for s in stated])
        answer, stated = computed_reply(values), []
    if stated and replans_left > 0 and not rejected and (feedback := _unread_for(stated[0].why, state, ctx)):
        log.info("the joiner's answer states what no result holds, and a search found files nothing read",
                 why=[s.why for s in stated])
        stated = []
    values_only = bool(stated) and all(s.kind == "value" for s in stated)
    # (content no step read is the joiner misreading a result: computed values are read for it,
    # evening memory-and-relay rewrote a metrics file's lines twice)
    computable = bool(stated) and all(s.kind in ("value", "content") for s in stated)
    if computable and not rejected and (computing := await _computing(state, runtime)):
        log.info("the joiner's answer states values or content no result holds; computing them",
                 why=[s.why for s in stated])
        return {**computing, "tokens": tokens}
    if stated:  # the answer states what no result holds: compute the value, or say what ran
        log.info("the joiner's answer states what no result holds", why=[s.why for s in stated])
        if values_only and replans_left > 0 and not rejected:
            how = ("a query_file node over the file that holds it, or a package node over the results"
                   if "query_file" in ctx.registry else "a package node that computes it from the results")
            feedback = (f"The answer was not sent: {stated[0].why}. Plan {how} (read what holds it "
                        "first, if no result does), and refer to that node's result in the answer.")
        elif (files := [s for s in stated if s.kind == "file"]) \
                and all(s.kind in ("file", "value") for s in stated) and replans_left > 0 and not rejected \
                and "search_files" in ctx.registry:
            # (a value beside it is the missing file's, made up: "set to 8 seconds" in it)
            search = search_example(state["request"])
            feedback = (f"The answer was not sent: {files[0].why}. Plan what finds the file that holds what "
                        f"the request asks, a search for one word of the request, {search}, and read the "
                        "file it finds.")
        else:
            answer = facts_reply(state.get("plan") or {}, results, red, why=stated[0].why)
    if feedback is not None:
        await _emit(runtime, state, Replanning, feedback=feedback, replan=replans + 1)
        return {"feedback": feedback, "replans": replans + 1, "repairs": 0, "plan_problems": [],
                "tokens": tokens}
    if answer and reply is not None and reply.cut_off:  # not the whole answer: say so
        answer += "\n\n_This answer was cut off: it reached the model's output limit._"
    if answer and (misread := misread_cells(answer, state["request"], state.get("plan") or {}, this_plans)):
        log.info("the joiner's answer gave another cell of the row the request names; set right",
                 path=misread.asked.named.path, column=misread.asked.column)
        answer = corrected(answer, misread)
    if answer and (unmade := unmade_claim(answer, state, red)):  # a change said made, whose node did not run
        log.info("the joiner's answer claims a change that was not made", nodes=unmade)
        nodes = ", ".join(f"`{node}`" for node in unmade)
        answer = facts_reply(state.get("plan") or {}, results, red,
                             why=f"says a change was made, and {nodes} did not run")
    answer = with_failures_told(unclaimed(answer, state, red, red_effects(ctx.registry)),
                                state.get("plan") or {}, _failures_to_tell(state)) or (
        computed_reply(values) if values else fallback_answer(state, red) + fallback_note)
    computing = this_plans.get(state.get("computed") or "")
    return {"answer": with_uncomputed_told(answer, computing), "tokens": tokens}


def _unread_for(why: str, state: AgentState, ctx: EngineContext) -> str | None:
    """The replan's feedback that reads the files this plan's searches found and nothing read,
    for an answer that could not be sent (``why``); None when there are none
    (:func:`agent.engine.unread_finds.unread_for_values`)."""
    return unread_for_values(why, state.get("plan") or {}, all_results(state), state.get("history", []),
                             ctx.registry.names())


async def _computing(state: AgentState, runtime: Ctx, reads: Sequence[str] = ()) -> dict[str, Any] | None:
    """The plan that ran with a package that computes what the request asks for from its
    results (:mod:`agent.engine.computed_values`), shown and audited, for the scheduler to run;
    None when dagbot computed for this request already, no node finished, or there is no sandbox.
    ``reads``: data files read whole first, for the package to compute from."""
    ctx = runtime.context
    if state.get("computed") or ctx.packages is None:
        return None
    earlier = state.get("history") or []
    before = state.get("plan") or {}
    plan = computing_plan(before, state.get("results") or {}, state["request"],
                          earlier[-1]["request"] if earlier else None, reads)
    if plan is None:
        return None
    return await _with_computing(state, runtime, plan, str(plan["nodes"][-1]["id"]))


async def _with_computing(state: AgentState, runtime: Ctx, plan: dict[str, Any],
                          computed: str) -> dict[str, Any]:
    """``plan``, with the nodes dagbot added to the plan that ran (``computed``: the package
    that computes the request), audited and shown, for the scheduler to run."""
    had = {str(node.get("id")) for node in (state.get("plan") or {}).get("nodes") or []}
    added = [str(node["id"]) for node in plan["nodes"] if str(node["id"]) not in had]
    await _audit(runtime, state, AuditKind.PLAN, SYSTEM, plan_id=state.get("plan_id"), mends=[], added=added,
                 plan=masked_plan(plan, runtime.context.registry), requested_by=state.get("requested_by"))
    await _emit(runtime, state, PlanReady, plan=plan, added=tuple(added))
    return {"plan": plan, "computed": computed, "computing": True, "answer": None}


async def _refeeding(state: AgentState, runtime: Ctx) -> dict[str, Any] | None:
    """The plan with a change its failed packages left skipped fed by dagbot's computing
    package instead (:mod:`agent.engine.refed_changes`), shown and audited, for the scheduler
    to run; None when there is none, dagbot computed for this request already, or no sandbox."""
    ctx = runtime.context
    if state.get("computed") or ctx.packages is None:
        return None
    earlier = state.get("history") or []
    before = state.get("plan") or {}
    refed = refed_plan(before, state.get("results") or {}, state["request"], ctx.registry.names(Risk.RED),
                       earlier[-1]["request"] if earlier else None)
    return None if refed is None else await _with_computing(state, runtime, *refed)


def _computed(state: AgentState) -> bool:
    """Whether the package dagbot added to compute the answer's values finished."""
    added = (state.get("results") or {}).get(state.get("computed") or "") or {}
    return added.get("status") == NodeStatus.DONE.value


def _failures_to_tell(state: AgentState) -> dict[str, Mapping[str, Any]]:
    """This plan's results, and the packages an earlier plan of this request failed and the
    replans dropped (:func:`agent.answer.failures.dropped_failures`): what an answer must tell."""
    results = {node_id: result for node_id, result in (state.get("results") or {}).items()
               if node_id != state.get("computed")}  # (dagbot's try at the values: not the plan's step)
    dropped = dropped_failures(state.get("earlier_results") or [], state.get("plan") or {}, results)
    return {**{node_id: result for node_id, result in dropped.items() if node_id != state.get("computed")},
            **results}


def _made_already(call: WrittenCall, state: AgentState) -> bool:
    """A node of this plan made ``call`` and finished: the same tool, and the same value for
    each argument the node gave literally (one it took from a result, ``${…}``, may differ in form);
    the call may be written with the fields of what it returned too (fresh no-mfa-to-file: a
    ``write_file`` of ``path``, ``bytes_written`` and ``appended``, replanned, wrote again)."""
    results = state.get("results") or {}
    for node in (state.get("plan") or {}).get("nodes", []):
        args = node.get("args") or {}
        result = results.get(node.get("id")) or {}
        output = result.get("output")
        returned = set(output) if isinstance(output, Mapping) else set()
        if (node.get("tool") == call.name and result.get("status") == "done"
                and set(call.args) <= set(args) | returned
                and all(call.args[key] == value for key, value in args.items()
                        if key in call.args and not referenced_ids(value))):
            return True
    return False


def fallback_answer(state: AgentState, red_tools: Collection[str]) -> str:
    """When the joiner model gives no usable answer: dagbot's own reply, from the results."""
    return facts_reply(state.get("plan") or {}, all_results(state), red_tools)


def after_joiner(state: AgentState) -> str:
    if state.get("answer"):
        return "answer"
    return "scheduler" if state.get("computing") else "planner"


_RECALLABLE = ("tool", "args", "each", "package", "depends_on")
"""What a follow-up's plan gets back of an earlier run's node it reads (PastRun.calls)."""


def _past_run(state: AgentState, answer: str) -> PastRun:
    nodes = (state.get("plan") or {}).get("nodes") or []
    calls = {node["id"]: {key: node[key] for key in _RECALLABLE if key in node}
             for node in nodes if node.get("tool") or node.get("package")}
    return PastRun(request=state["request"], answer=answer, results=all_results(state), calls=calls)


def earlier_calls(state: AgentState) -> dict[str, dict[str, Any]]:
    """The tool calls of the thread's earlier runs by node id (a later run's over an earlier's)."""
    return {node_id: call for run in state.get("history", [])
            for node_id, call in (run.get("calls") or {}).items()}


async def answer(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    text = readable_numbers(with_file_told(str(state["answer"]), state["request"], state.get("plan") or {},
                                           state.get("results") or {}))
    text = with_no_rows_note(text, state.get("plan") or {}, state.get("results") or {},
                             runtime.context.registry.names(Risk.RED))
    await _emit(runtime, state, AnswerReady, answer=text,
                duration_s=time.time() - state.get("started_at", time.time()),
                nodes_run=state.get("nodes_run", 0), tokens=state.get("tokens", 0))
    return {"messages": [AIMessage(text)], "history": [_past_run(state, text)]}


async def fail(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    discard_early_starts(runtime.context, current_thread(), state.get("run_id", ""))
    text = runtime.context.redactor(str(state["failure"]))
    await _emit(runtime, state, RunFailed, error=text)
    return {"messages": [AIMessage(text)], "history": [_past_run(state, text)]}


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None) -> CompiledStateGraph[Any, Any, Any, Any]:
    graph = StateGraph(AgentState, context_schema=EngineContext)
    graph.add_node("planner", planner)
    graph.add_node("validate", validate)
    graph.add_node("scheduler", scheduler)
    graph.add_node("wait", wait)
    graph.add_node("joiner", joiner)
    graph.add_node("answer", answer)
    graph.add_node("fail", fail)
    graph.add_edge(START, "planner")
    graph.add_conditional_edges(
        "planner", lambda s: "fail" if s.get("failure") else "validate", ["validate", "fail"]
    )
    graph.add_conditional_edges("validate", after_validate, ["planner", "scheduler", "joiner", "fail"])
    graph.add_conditional_edges("scheduler", after_scheduler, ["wait", "joiner", "fail"])
    graph.add_edge("wait", "scheduler")
    graph.add_conditional_edges("joiner", after_joiner, ["answer", "scheduler", "planner"])
    graph.add_edge("answer", END)
    graph.add_edge("fail", END)
    return graph.compile(checkpointer=checkpointer)


def new_run_input(request: str, requested_by: str | None, queued_key: str | None = None) -> dict[str, Any]:
    """The state update that starts a new run on a thread (earlier runs stay in history)."""
    from langchain_core.messages import HumanMessage

    return {
        "messages": [HumanMessage(request)], "run_id": uuid.uuid4().hex, "queued_key": queued_key,
        "request": request,
        "requested_by": requested_by, "started_at": time.time(), "draft": None, "draft_id": None,
        "refused_tools": {}, "file_shapes": None, "plan_problems": [], "repairs": 0, "plan": None,
        "plan_id": None, "replans": 0,
        "feedback": None, "results": {}, "earlier_results": [], "pending_approvals": [], "answer": None,
        "failure": None, "tokens": 0, "nodes_run": 0, "replan_refused": False, "computed": None,
        "computing": False, "made_changes": [],
    }
