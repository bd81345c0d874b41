"""The Package-Skill subgraph: run package code in a fresh sandbox, heal it by reflexion.

    START ─(its result answers the request, and its inputs hold one table:
      │     sandbox/table_query.py)→ query ─SQL (checked: sandbox/query_checks.py)─→ attempt
      │   (failed or found nothing: the query once more, told why; then the planner's code,
      │    or reflect when it has none)
      ▼
    attempt ─ok──────────────────────────→ END
               (before it runs: a compared value no input holds, where the goal names the one
                the inputs hold, is that value: sandbox/goal_values.py)
               │ failed (or not run: it reads a key no input has, sandbox/unknown_keys.py;
               │ or, once, found nothing looking for a text no input holds:
               │ sandbox/absent_texts.py), attempts left
               ▼
            reflect (a slip with a plain fix, a key the inputs hold spelt another way, a CSV
               │      header read as data, a loop over an object meant for its one list, is
               │      mended in place by the first of sandbox/runtime_mends.py's RUNTIME_MENDS
               │      that applies; else the LLM rewrites the whole script from goal, inputs,
               │      code, error; after two attempts that read the same key no input has, it
               │      writes one afresh from goal and inputs, prompts/writer.md, no code shown)
               │ new code                      │ no usable reply, or the code that failed
               └──────────→ attempt            └────────→ END

A job with no code (a package dagbot added to compute what an answer needs:
agent/engine/computed_values.py) goes to reflect first, where the model writes it from the goal
and the inputs' outline (prompts/writer.md); the loop then runs as above.

Each attempt gets a new sandbox. A failed attempt leaves only its
:class:`~agent.ports.sandbox.PackageAttemptRecord` (code, error summary); its output, logs and
traceback are used once, for the next prompt, and dropped. The subgraph has no checkpointer
(``checkpointer=False``), so nothing of it lands in the calling graph's checkpoints: the
engine stores the returned :class:`~agent.ports.sandbox.PackageOutcome`.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agent.events import PackageAttempt
from agent.model.llm import for_role, model_error_summary
from agent.plan.package_code import package_code_problems, parse_python
from agent.ports.sandbox import (
    EmitFn,
    PackageAttemptRecord,
    PackageJob,
    PackageOutcome,
    Sandbox,
    SandboxLimits,
    SandboxResult,
    ToolGateway,
)
from sandbox.absent_texts import ERROR_TYPE as ABSENT_ERROR
from sandbox.absent_texts import absent_texts, looked_for, looked_for_nothing
from sandbox.csv_delimiters import NAME as CSV_DELIMITER
from sandbox.csv_delimiters import with_delimiters
from sandbox.date_conditions import dates_as_bounded
from sandbox.existence_questions import named_beside_count
from sandbox.extreme_direction import extreme_as_asked, with_ordered_value
from sandbox.flag_columns import flag_words_as_numbers, flipped_flags, kept_flags
from sandbox.goal_values import NAME as GOAL_VALUES
from sandbox.goal_values import mended_goal_values
from sandbox.input_outline import outline
from sandbox.like_patterns import likes_as_meant
from sandbox.named_values import named_difference, named_share
from sandbox.query_aliases import without_alias
from sandbox.query_checks import (
    asked_of,
    grouped,
    in_nested_table,
    kept_conditions,
    mended_share,
    one_group,
    one_row_named_before,
    percents_as_written,
    query_faults,
    quoted_aliases,
    quoted_clause_words,
    quoted_keywords,
    span_counted_as_rows,
    swapped_values,
    told_values_added,
    unasked_values,
    with_row_names,
    without_copied_row,
    without_file_named,
    without_negated,
    without_stated_texts,
    without_targets,
    without_totals_beside,
    without_whole_lists,
)
from sandbox.runtime_mends import RuntimeFailure, mend_in_place
from sandbox.share_base import share_of_valued_rows
from sandbox.table_query import NAME as TABLE_QUERY
from sandbox.table_query import (
    Table,
    describe,
    extract_sql,
    find_table,
    query_code,
    query_task,
    share_rule,
    two_values_rule,
)
from sandbox.time_columns import ordered_by_time
from sandbox.unknown_keys import not_run_for, unknown_key_reads
from sandbox.unparsed_inputs import unparsed_inputs
from sandbox.upcoming_dates import upcoming_only
from sandbox.whole_rows import whole_rows
from sandbox.written_mends import mended_written_code

log = logging.getLogger(__name__)

PROMPT_PATH = Path(__file__).resolve().parent / "prompts" / "reflexion.md"
WRITER_PATH = PROMPT_PATH.with_name("writer.md")
"""The prompt for a package that comes with no code (a job whose ``code`` is empty): written
from its goal and inputs before its first attempt (agent/engine/computed_values.py adds one)."""

_IN_PLACE: tuple[tuple[Callable[[Table, PackageJob, str], str | None], str], ...] = (
    (lambda t, j, sql: likes_as_meant(t, asked_of(j), sql) if j.request else None,
     "a LIKE pattern that matches no row made the pattern it meant"),
    (lambda t, j, sql: named_share(t, asked_of(j), sql) if j.request else None,
     "a share of one named value in another, asked and not divided, computed as one over the other"),
    (lambda t, j, sql: named_difference(t, asked_of(j), sql) if j.request else None,
     "what is used of a named whole, asked and not subtracted, computed as its total less its free"),
    (lambda t, j, sql: named_beside_count(t, j.request, sql) if j.request else None,
     "the rows' names beside the count, where the request asks whether any row is so"),
    (lambda t, j, sql: without_copied_row(t, asked_of(j), sql) if j.request else None,
     "a row copied into the query's conditions left out"),
    (lambda t, j, sql: without_targets(t, j.request, sql) if j.request else None,
     "a condition on where the change goes left out"),
    (lambda t, j, sql: without_file_named(t, sql),
     "a condition on no column, that the file's name says, left out"),
    (lambda t, j, sql: whole_rows(j.goal, sql), "the rows a goal asks for whole, selected whole"),
    (lambda t, j, sql: without_stated_texts(sql), "a text the query wrote itself as a value left out"),
    (lambda t, j, sql: quoted_keywords(t, sql), "a column named by one of SQL's words quoted"),
    (lambda t, j, sql: quoted_clause_words(t, sql), "a column named by a clause's word quoted"),
    (lambda t, j, sql: quoted_aliases(sql), "a name given to a column that is one of SQL's words quoted"),
    (lambda t, j, sql: span_counted_as_rows(t, j.request, sql) if j.request else None,
     "the days between a date the request names and the rows' latest or earliest, not a count of rows"),
    (lambda t, j, sql: in_nested_table(t, sql), "the query reads the table a row's list holds, not data"),
    (lambda t, j, sql: percents_as_written(t, j.request, sql) if j.request else None,
     "a column of percents compared with the percentage, not its fraction"),
    (lambda t, j, sql: mended_share(sql), "the share's sum and its condition mended in place"),
    (lambda t, j, sql: share_of_valued_rows(t, sql),
     "the share counted over the rows that have a value in the column it reads"),
    (lambda t, j, sql: without_totals_beside(t, sql), "a total beside the row the query picks left out"),
    (lambda t, j, sql: without_whole_lists(t, sql),
     "a list of every value of a column left out of the query"),
    (lambda t, j, sql: flag_words_as_numbers(t, sql), "a yes/no column compared with its number, not a word"),
    (lambda t, j, sql: dates_as_bounded(j.request, sql) if j.request else None,
     "a date the request bounds compared as it bounds it"),
    (lambda t, j, sql: kept_flags(t, j.request, sql) if j.request else None,
     "the rows of a yes/no column's value the request asks for, read alone"),
    (lambda t, j, sql: flipped_flags(t, j.request, sql) if j.request else None,
     "a yes/no column compared as the request asks"),
    (lambda t, j, sql: upcoming_only(t, j.request, sql) if j.request else None,
     "the earliest of what is still to come read from the rows whose date has not passed"),
    (lambda t, j, sql: ordered_by_time(t, j.request, sql) if j.request else None,
     "the newest or the oldest ordered by the table's time"),
    (lambda t, j, sql: extreme_as_asked(j.request, sql) if j.request else None,
     "the most or the least taken the way the request asks"),
    (lambda t, j, sql: with_ordered_value(t.columns, j.request, sql) if j.request else None,
     "the value the query orders by selected beside, where the request asks how long or how much"),
    (lambda t, j, sql: one_group(j.request, sql) if j.request else None,
     "the one group asked for kept (ordered by its aggregate, LIMIT 1)"),
    (lambda t, j, sql: one_row_named_before(t, j, sql) if j.request else None,
     "the one row the answer before named kept"),
    (lambda t, j, sql: with_row_names(t, j.request, sql) if j.request else None,
     "the column naming each row selected beside those several rows share"),
)
"""The query's slips mended in place, in this order, each from the table, the job and the query
alone (the two that need the query before it and what it was told are applied first, above)."""
QUERY_PATH = PROMPT_PATH.with_name("query.md")
"""The prompt for one SQL query over the table a package's inputs hold (sandbox/table_query.py)."""
QUERY_TRIES = 2
"""Queries written for a package at most (the second told why the first failed or found nothing)."""
QUERY_FIXES = 3
"""Times a query with a certain fault (:mod:`sandbox.query_checks`) is sent back before it runs:
a rewrite that mends one fault may make another (the users without MFA: the filter on ``mfa``
dropped with the condition it was told to drop; fresh follow-up-admins: a count, then the admins
with no condition on ``mfa``, then ``mfa`` with the admins dropped), but the same faults twice
end it."""
RULES_PATH = PROMPT_PATH.with_name("package_rules.md")
"""How package code runs: ``$rules`` of both prompts."""
FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
LINE = re.compile(r'File "<package>", line (\d+)')
_GIST_LINE = re.compile(r"\(line (\d+)\)$")
_GIST_LINE_ANYWHERE = re.compile(r"\s*\(line \d+\)")
UNKNOWN_KEY_NOTE = " (found before it ran: no input has that key)"
NOT_FIXABLE_BY_CODE = frozenset({"SandboxUnavailable", "SandboxError"})
"""Failures of the sandbox itself: no new attempt, no reflexion."""


_NO_SUCH_COLUMN = re.compile(r"no such column: ([\w.]+)")


class PackageState(TypedDict, total=False):
    code: str
    attempt: int
    records: list[PackageAttemptRecord]
    feedback: str | None
    """The last failure in full (error, traceback, log tails), for the next prompt only."""
    ok: bool
    output: Any
    mended: tuple[str, str] | None
    """The runtime mend that saw a plain fix of the last attempt's slip, and the mended code
    (:func:`sandbox.runtime_mends.mend_in_place`): the next attempt's code, no model call."""
    mended_by: dict[int, str]
    """Attempts whose code a runtime mend wrote (from the attempt before): the mend's name, by
    attempt number. Attempts not here ran the job's code or the reflexion model's."""
    held: Any
    """The empty result of an attempt sent back because its code looked for texts no input
    holds (sandbox/absent_texts.py): the package's output if no later attempt succeeds."""
    stopped: str | None
    """Why the loop ended before the attempt limit (the model gave no usable code, or the
    code that had just failed)."""
    queries: int
    """Queries written for the table the inputs hold (sandbox/table_query.py)."""
    sql: str
    """The last of them."""
    querying: bool
    """The code is a compiled query (not the planner's code, a mend's or reflexion's)."""
    table: Table | None
    """The one table the inputs hold, when the package's result answers the request and table
    queries are on (read once: every query is written over it)."""


class ReflexionPackageRunner:
    """:class:`agent.ports.sandbox.PackageRunner`: sandbox attempts healed by a reflexion LLM."""

    def __init__(
        self, sandbox: Sandbox, llm: BaseChatModel, limits: SandboxLimits | None = None,
        max_attempts: int = 3, prompt: str | None = None, table_queries: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.sandbox = sandbox
        self.llm = llm
        self.limits = limits or SandboxLimits()
        self.max_attempts = max_attempts
        self.prompt = Template(prompt or PROMPT_PATH.read_text(encoding="utf-8"))
        self.writer = Template(WRITER_PATH.read_text(encoding="utf-8"))
        self.rules = RULES_PATH.read_text(encoding="utf-8").rstrip("\n")
        self.table_queries = table_queries
        """Compute a package over one table with an SQL query first (sandbox/table_query.py)."""
        self.query = Template(QUERY_PATH.read_text(encoding="utf-8"))
        self.graph = self._build()

    def _build(self) -> Any:
        graph = StateGraph(PackageState)
        graph.add_node("attempt", self._attempt)
        graph.add_node("reflect", self._reflect)
        graph.add_node("query", self._query)
        graph.add_conditional_edges(START, self._first, ["query", "attempt", "reflect"])
        graph.add_conditional_edges("query", _to_code, ["attempt", "reflect"])
        graph.add_conditional_edges("attempt", self._after_attempt, ["query", "reflect", END])
        graph.add_conditional_edges("reflect", self._after_reflect, ["attempt", END])
        return graph.compile(checkpointer=False, name="package_skill")

    def needs_whole_plan(self, inputs: dict[str, Any]) -> bool:
        """:class:`agent.ports.sandbox.PlanAwarePackages`: a package over one table waits for the
        whole plan, which says whether another package goes on from it (then the planner's code
        runs) or it answers the request (then a query does)."""
        return self.table_queries and find_table(inputs) is not None

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        final = await self.final_state(job, tools, emit)
        records = list(final.get("records", []))
        if final.get("ok"):
            return PackageOutcome(ok=True, output=final.get("output"), attempts=records)
        if "held" in final:  # found nothing, then no rewrite did better: that result stands
            return PackageOutcome(ok=True, output=final["held"], attempts=records)
        return PackageOutcome(
            ok=False, error=self._summary(job, records, final.get("stopped")), attempts=records
        )

    async def final_state(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageState:
        """The subgraph's last state, which :meth:`run` sums up (``mended_by`` too: which
        runtime mend wrote which attempt's code)."""
        config: RunnableConfig = {
            "configurable": {"package_job": job, "package_tools": tools, "package_emit": emit},
            "recursion_limit": 2 * self.max_attempts + 4,
        }
        start: PackageState = {"code": job.code, "attempt": 0, "records": [], "ok": False,
                               "mended_by": {}, "queries": 0, "querying": False,
                               "table": find_table(job.inputs) if self.table_queries and job.final else None}
        final: PackageState = await self.graph.ainvoke(start, config)
        return final

    # ------------------------------------------------------------------ nodes

    @staticmethod
    def _first(state: PackageState) -> str:
        """A query first for a package whose result answers the request, over one table. Not for
        a step another package goes on from: the planner wrote that one's code for the shape
        its next step reads (a query that took the whole request as its task computed the
        wrong thing there: bench.quality data-sev1-ack's "filter pages by severity")."""
        return "query" if state.get("table") is not None else _to_code(state)

    async def _query(self, state: PackageState, config: RunnableConfig) -> PackageState:
        """The next attempt's code: a query the model writes over the inputs' table, compiled
        (sandbox/table_query.py); after QUERY_TRIES of them, or when no query comes, the
        planner's code (empty: reflect writes it)."""
        job, _, _ = _context(config)
        table = state.get("table")
        asked = state.get("queries", 0)
        back: PackageState = {"code": job.code, "querying": False, "feedback": state.get("feedback")}
        if table is None or asked >= QUERY_TRIES:
            return back
        error = ""
        if asked:
            error = (f"\nThe query `{state.get('sql', '')}` {state.get('feedback') or 'failed'}. "
                     "Write a corrected query.\n")
        prompt = self.query.safe_substitute(task=query_task(job, table), table=describe(table), error=error,
                                            share=share_rule(job, table), two=two_values_rule(job, table))
        messages: list[BaseMessage] = [HumanMessage(prompt)]
        told_before: list[str] = []
        before: str | None = None  # the query told its faults last
        best: tuple[int, str] | None = None  # the query with the fewest faults, the later of equals
        for _ in range(QUERY_FIXES + 1):  # a query with a certain fault (sandbox/query_checks.py): told so
            try:
                reply = await for_role(self.llm, "reflexion").ainvoke(messages)
            except Exception as exc:  # its class and status only
                log.warning("query model failed for %s: %s", job.node_id, model_error_summary(exc))
                return back
            sql = extract_sql(_text(reply.content))
            written = _text(reply.content)
            if sql and (plain := without_alias(sql)) is not None:  # (checks find columns by their names)
                sql, written = plain, f"```sql\n{plain}\n```"
            if sql and told_before and before and (kept := kept_conditions(table, before, sql, told_before)):
                log.info("package %s: the conditions the rewrite dropped unasked kept", job.node_id)
                sql, written = kept, f"```sql\n{kept}\n```"
            if sql and told_before and job.request and (
                    told_kept := told_values_added(table, asked_of(job), sql, told_before)) is not None:
                log.info("package %s: a value the request names, told and still left out, added", job.node_id)
                sql, written = told_kept, f"```sql\n{told_kept}\n```"
            if sql and told_before and before and job.request and (
                    swapped := swapped_values(table, asked_of(job), before, sql)) is not None:
                log.info("package %s: a value put in place of another named, both kept", job.node_id)
                sql, written = swapped, f"```sql\n{swapped}\n```"
            if sql and before and job.request and (undone := without_negated(sql, unasked_values(
                    table, asked_of(job), before))) is not None:
                log.info("package %s: a value told to be left out, negated, left out", job.node_id)
                sql, written = undone, f"```sql\n{undone}\n```"
            for mend, what in _IN_PLACE:
                if sql and (mended := mend(table, job, sql)) is not None:
                    log.info("package %s: %s", job.node_id, what)
                    sql, written = mended, f"```sql\n{mended}\n```"
            if sql is not None and sql == state.get("sql"):
                break  # (the query that just failed, again: told its faults, the model wrote it once more)
            before = sql
            told = query_faults(table, job, sql) if sql and job.request else []
            if sql and (best is None or len(told) <= best[0]):
                best = (len(told), sql)
            if not told or told == told_before:  # (the same faults again: telling once more will not help)
                break
            told_before = told
            messages += [AIMessage(written), HumanMessage(
                " ".join(told) + " Reply with the whole query in a single ```sql fenced block.")]
        if best is not None and sql is not None and best[1] != sql:  # (tuning status-and-incidents:
            # four rewrites turned between a name and a count, and the last, a count, ran)
            log.info("package %s: the query with the fewest faults runs, not the last", job.node_id)
            sql = best[1]
        if sql is not None and (regrouped := grouped(sql)) is not None:
            log.info("package %s: the query's GROUP BY added (it orders by an aggregate)", job.node_id)
            sql = regrouped
        if sql is None or sql == state.get("sql"):
            log.info("package %s: no new query (%s); the planner's code next", job.node_id,
                     "none in the reply" if sql is None else "the same again")
            return back
        attempt = state.get("attempt", 0) + 1
        return {"code": query_code(table, sql, job.final), "sql": sql, "queries": asked + 1, "querying": True,
                "feedback": None, "mended_by": {**state.get("mended_by", {}), attempt: TABLE_QUERY}}

    async def _attempt(self, state: PackageState, config: RunnableConfig) -> PackageState:
        job, tools, emit = _context(config)
        attempt = state.get("attempt", 0) + 1
        mended_by = state.get("mended_by", {}).get(attempt)
        code = state["code"]
        if state.get("querying"):
            return await self._query_attempt(state, job, tools, emit, attempt)
        if (split := with_delimiters(code, job.inputs)) is not None:  # before it runs
            log.info("package %s: a CSV read by its delimiter, mended in place by %s", job.node_id,
                     CSV_DELIMITER)
            code, mended_by = split, CSV_DELIMITER
        if (valued := mended_goal_values(code, job.goal, job.inputs)) is not None:  # before it runs
            log.info("package %s: compared values mended in place by %s", job.node_id, GOAL_VALUES)
            code, mended_by = valued, GOAL_VALUES  # (the last to change the code)
        await _emit(emit, job, attempt, self.max_attempts, None, mended_by)
        unknown = unknown_key_reads(code, job.inputs)  # would fail, or answer from a default
        outcome = (not_run_for(code, unknown) if unknown
                   else await self.sandbox.run(code, job.inputs, tools, self.limits))
        records = list(state.get("records", []))
        if outcome.ok and (nothing := self._found_nothing(code, job, attempt, records, outcome.result)):
            gist = f"{ABSENT_ERROR}: {nothing}"
            records.append(PackageAttemptRecord(attempt=attempt, code=code, error=gist, mended_by=mended_by))
            await _emit(emit, job, attempt, self.max_attempts, gist)
            return {"attempt": attempt, "records": records, "ok": False, "stopped": None, "code": code,
                    "feedback": gist, "mended": None, "held": outcome.result}
        if outcome.ok:
            records.append(PackageAttemptRecord(attempt=attempt, code=code, error=None, mended_by=mended_by))
            return {"attempt": attempt, "records": records, "ok": True, "code": code,
                    "output": outcome.result, "feedback": None}
        gist = error_gist(outcome) + (UNKNOWN_KEY_NOTE if unknown else "")
        records.append(PackageAttemptRecord(attempt=attempt, code=code, error=gist, mended_by=mended_by))
        await _emit(emit, job, attempt, self.max_attempts, gist)
        stopped = None
        if outcome.error_type in NOT_FIXABLE_BY_CODE:
            stopped = "the sandbox itself failed; rewriting the code cannot help"
        return {"attempt": attempt, "records": records, "ok": False, "stopped": stopped, "code": code,
                "feedback": failure_report(outcome),
                "mended": mend_in_place(RuntimeFailure.of(code, outcome, job.inputs))}

    async def _query_attempt(self, state: PackageState, job: PackageJob, tools: ToolGateway, emit: EmitFn,
                             attempt: int) -> PackageState:
        """A compiled query's attempt: its result, or why the next query is written (it failed,
        or, the first time, it found nothing: held, in case nothing does better)."""
        code = state["code"]
        await _emit(emit, job, attempt, self.max_attempts, None, TABLE_QUERY)
        outcome = await self.sandbox.run(code, job.inputs, tools, self.limits)
        records = list(state.get("records", []))
        if outcome.ok and outcome.result in (None, [], {}, "") and state.get("queries", 0) < QUERY_TRIES:
            gist = f"{ABSENT_ERROR}: the query matched no row"
            records.append(_queried(attempt, code, gist, state.get("sql")))
            await _emit(emit, job, attempt, self.max_attempts, gist)
            return {"attempt": attempt, "records": records, "ok": False, "stopped": None,
                    "feedback": "matched no row: compare with the values as the table lists them",
                    "mended": None, "held": outcome.result}
        if outcome.ok:
            records.append(_queried(attempt, code, None, state.get("sql")))
            return {"attempt": attempt, "records": records, "ok": True, "output": outcome.result,
                    "feedback": None}
        gist = error_gist(outcome)
        records.append(_queried(attempt, code, gist, state.get("sql")))
        await _emit(emit, job, attempt, self.max_attempts, gist)
        stopped = ("the sandbox itself failed; rewriting the code cannot help"
                   if outcome.error_type in NOT_FIXABLE_BY_CODE else None)
        told = f"failed: {gist}"
        if (missing := _NO_SUCH_COLUMN.search(gist)) and (table := state.get("table")) is not None:
            # (the model wrote the same again; and a table of pages has no `pages` column: a
            # request's "how many pages" counts its rows)
            told += (f" (the table's columns are {', '.join(table.columns)}; if each row is one of "
                     f"the {missing.group(1)} to count, COUNT(*) counts them)")
        return {"attempt": attempt, "records": records, "ok": False, "stopped": stopped,
                "feedback": told, "mended": None}

    async def _reflect(self, state: PackageState, config: RunnableConfig) -> PackageState:
        job, tools, _ = _context(config)
        if (mended := state.get("mended")) is not None:  # a plain fix: no model call needed
            name, code = mended
            log.info("package %s: mended in place by %s after %s", job.node_id, name,
                     state["records"][-1].error)
            mended_by = {**state.get("mended_by", {}), state.get("attempt", 0) + 1: name}
            return {"code": code, "feedback": None, "mended": None, "mended_by": mended_by}
        describe = getattr(tools, "describe", None)
        catalog = describe() if callable(describe) else "(see the previous code)"
        if not job.code.strip():  # dagbot's package computing from results: nothing to fetch
            catalog = NO_TOOLS
        repeated = repeated_failure(state.get("records") or [])
        fresh = not state["code"].strip() or repeated is not None
        if repeated is not None:
            log.info("package %s: failed the same way twice (%s); written afresh", job.node_id, repeated)
        template = self.writer if fresh else self.prompt  # (no code yet, or stuck on it: write it)
        earlier = (f" Earlier scripts for this goal failed twice the same way ({repeated}): write a new "
                   "one from the goal and the inputs above." if repeated else "")
        prompt = template.safe_substitute(
            rules=self.rules, goal=goal_text(job), inputs=summarise_inputs(job.inputs),
            parsing=parsing(job.inputs), tools=catalog or "(none)",
            attempt=state.get("attempt", 1), max_attempts=self.max_attempts,
            code=state["code"], error=state.get("feedback") or "(no details)", earlier=earlier,
        )
        messages: list[BaseMessage] = [HumanMessage(prompt)]
        unfit: list[str] = []  # why the last code cannot work as written: never run (made-up inputs)
        for _ in range(2):  # the same code back, or code that cannot work: told so once
            try:
                reply = await for_role(self.llm, "reflexion").ainvoke(messages)
            except Exception as exc:  # its class and status only: the server's words may quote the key
                log.warning("reflexion model failed for %s: %s", job.node_id, model_error_summary(exc))
                return {"stopped": f"the reflexion model failed: {model_error_summary(exc)}",
                        "feedback": None}
            code = extract_code(_text(reply.content))
            code = mended_written_code(code, job.inputs) if code else code  # (plain slips: written_mends.py)
            if not code:
                return {"stopped": "the reflexion model returned no code", "feedback": None}
            if _same_code(code, state["code"]):
                told = _same_again(state)
            elif unfit := _faults(code) + self._still_absent(code, state, job) + _reads_no_input(code, job):
                told = ("That code cannot work as written: " + "; ".join(unfit) + ". Reply with the "
                        "whole corrected script in a single ```python fenced block.")
            else:
                return {"code": code, "feedback": None}
            messages += [AIMessage(_text(reply.content)), HumanMessage(told)]
        if unfit:
            return {"stopped": "the reflexion model's code cannot work as written: " + "; ".join(unfit),
                    "feedback": None}
        # it would fail the same way: no attempt wasted
        return {"stopped": "the reflexion model returned the same code that failed in attempt "
                           f"{state.get('attempt', 1)}: not run again", "feedback": None}

    def _found_nothing(self, code: str, job: PackageJob, attempt: int,
                       records: list[PackageAttemptRecord], result: Any) -> str | None:
        """Why a result that ran fine is sent back once: it is empty and the code looked for
        texts no input holds (sandbox/absent_texts.py). Not on the last attempt, and not twice:
        a rewrite that again finds nothing stands (the data may hold none)."""
        if attempt >= self.max_attempts or any((r.error or "").startswith(ABSENT_ERROR) for r in records):
            return None
        return looked_for_nothing(code, job.inputs, result)

    @staticmethod
    def _still_absent(code: str, state: PackageState, job: PackageJob) -> list[str]:
        """After an attempt sent back for finding nothing, a rewrite that looks for the same
        absent texts again (dev gateway-5xx: ``' 5xx ' in l`` with comments added)."""
        records = state.get("records") or []
        if not records or not (records[-1].error or "").startswith(ABSENT_ERROR):
            return []
        before = looked_for(state["code"])  # (absent now, so absent then: the inputs are the same)
        again = [text for text in absent_texts(code, job.inputs) if text in before]
        return [f"it still looks for {text!r}, which none of the inputs holds" for text in again]

    def _after_attempt(self, state: PackageState) -> str:
        if state.get("ok") or state.get("stopped") or state.get("attempt", 0) >= self.max_attempts:
            return END
        return "query" if state.get("querying") else "reflect"

    @staticmethod
    def _after_reflect(state: PackageState) -> str:
        return END if state.get("stopped") else "attempt"

    def _summary(
        self, job: PackageJob, records: list[PackageAttemptRecord], stopped: str | None
    ) -> str:
        count = len(records)
        # (first: a file it was given that does not parse, dagbot's own finding, said plainly)
        lines = [f"{why}." for why in unparsed_inputs(job.inputs)]
        lines += [f"package '{job.node_id}' failed after {count} "
                  f"attempt{'s' if count != 1 else ''} (limit {self.max_attempts}):"]
        lines += [f"  attempt {r.attempt}/{self.max_attempts}: {r.error}" for r in records]
        if stopped:
            lines.append(f"  stopped: {stopped}")
        return "\n".join(lines)


# ---------------------------------------------------------------- helpers


def _queried(attempt: int, code: str, error: str | None, sql: str | None) -> PackageAttemptRecord:
    return PackageAttemptRecord(attempt=attempt, code=code, error=error, mended_by=TABLE_QUERY, query=sql)


def _to_code(state: PackageState) -> str:
    """Run the code there is; with none yet, have it written first."""
    return "attempt" if state["code"].strip() else "reflect"


def _context(config: RunnableConfig) -> tuple[PackageJob, ToolGateway, EmitFn]:
    configurable = config.get("configurable") or {}
    return (configurable["package_job"], configurable["package_tools"],
            configurable["package_emit"])


async def _emit(emit: EmitFn, job: PackageJob, attempt: int, limit: int, gist: str | None,
                mended_by: str | None = None) -> None:
    event = PackageAttempt(thread_id=job.thread_id, run_id=job.run_id, node_id=job.node_id,
                           attempt=attempt, max_attempts=limit, error_gist=gist, mended_by=mended_by)
    try:
        await emit(event)
    except Exception:  # progress display must never break a package run
        log.exception("could not emit %s", event)


NO_INPUT_READ = ("it never reads inputs, so every value it sets is written in the code, not computed: "
                 "compute the result from the inputs shown above (inputs['id']…)")


def _reads_no_input(code: str, job: PackageJob) -> list[str]:
    """Why code for a package that has inputs computes nothing: it never reads ``inputs`` (nor
    calls a tool). A 1.5B model, shown a search that had found nothing, wrote an "example" with
    ``inputs = {…}`` of its own (mended away), then ``result['depth'] = 5  # let's assume``: the
    answer stated 5 and 10 as computed (console backlog-and-concurrency)."""
    if not job.inputs:
        return []
    try:
        tree = parse_python(code)
    except SyntaxError:
        return []
    if any(isinstance(node, ast.Name) and node.id in ("inputs", "tools") for node in ast.walk(tree)):
        return []
    return [NO_INPUT_READ]


def _faults(code: str) -> list[str]:
    """Why reflexion's code cannot work as written (a ``result`` it never sets, as a function
    defined and never called; ``inputs`` written out; a module the sandbox lacks); code that
    does not parse is left to Python's own error."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return []
    return package_code_problems(code, tree)


def repeated_failure(records: list[PackageAttemptRecord]) -> str | None:
    """The read of a key no input has that the last two attempts share, but for the line (the
    dev set's follow-up-laggard: ``KeyError: 'last_seen'`` at line 4, then at line 6, the
    reflexion model keeping the key it was told no input has); None when they differ, fewer
    than two failed, or the failure is another (a JSON text that does not parse fails every
    script the same way, and is the finding: dev broken-targets, whose script written afresh
    read the JSON as CSV and "counted" its lines). The next script is then written afresh from
    the goal and the inputs (prompts/writer.md), so that the model is not shown the code it
    keeps copying."""
    if len(records) < 2 or not all((r.error or "").endswith(UNKNOWN_KEY_NOTE) for r in records[-2:]):
        return None
    last, before = (_GIST_LINE_ANYWHERE.sub("", r.error or "").strip() for r in records[-2:])
    return last if last == before else None


def _same_again(state: PackageState) -> str:
    """What the reflexion model is told when it returns the code that failed: the line to change."""
    records = state.get("records") or []
    gist = records[-1].error if records and records[-1].error else "the error above"
    line = _GIST_LINE.search(gist)
    code_lines = state["code"].splitlines()
    where = ""
    if line and 0 < int(line.group(1)) <= len(code_lines):
        where = f" Line {line.group(1)} raised it:\n{code_lines[int(line.group(1)) - 1].strip()}\n"
    return (f"That is the same code that failed, and it would fail the same way ({gist}).{where}"
            "Change what raised the error so that it cannot happen with the inputs shown above, "
            "and reply with the whole corrected script in a single ```python fenced block.")


def error_gist(outcome: SandboxResult) -> str:
    """One line: the error type and message, and the package line that raised."""
    first = (outcome.error or "").strip().splitlines()
    gist = f"{outcome.error_type or 'Error'}: {first[0] if first else ''}".rstrip(": ")
    lines = LINE.findall(outcome.traceback or "")
    if lines:
        gist += f" (line {lines[-1]})"
    return gist if len(gist) <= 300 else gist[:299] + "…"


def failure_report(outcome: SandboxResult) -> str:
    parts = [f"{outcome.error_type or 'Error'}: {outcome.error or ''}"]
    if outcome.traceback:
        parts.append(f"Traceback (package lines only):\n{outcome.traceback.strip()[-3000:]}")
    if outcome.stderr.strip():
        parts.append(f"stderr (tail):\n{outcome.stderr.strip()[-2000:]}")
    if outcome.stdout.strip():
        parts.append(f"stdout (tail):\n{outcome.stdout.strip()[-1000:]}")
    return "\n\n".join(parts)


NO_TOOLS = ("(none needed: every value is computed from the inputs above, which hold what the plan's "
            "steps returned)")
"""The tools shown for a package dagbot added to compute an answer's values (its code empty,
written here): its inputs are the results. Shown ``tools.http_get``, the writer of fresh
follow-up-owner fetched a read Markdown file by its path instead of using its content."""


_PARSING = {
    "csv": "parse CSV text with `csv.DictReader(io.StringIO(text))` (its values are strings: convert them "
           "with float() or int() before adding or comparing)",
    "json": "parse JSON text with `json.loads(text)`",
    "yaml": "parse YAML text with `yaml.safe_load(text)`",
    "log": "read a log line by line",
    "text": "read plain text (Markdown, notes) line by line: it has no columns and is not CSV; in Markdown a "
            "`#` line heads a section and each `- ` line below it is an item of that section (`Name: what` "
            "puts a name before the colon): keep the items of the section the goal is about and take the "
            "values from them",
}
_KINDS = {"csv": "csv", "tsv": "csv", "json": "json", "jsonl": "json", "ndjson": "json", "yaml": "yaml",
          "yml": "yaml", "log": "log", "md": "text", "markdown": "text", "txt": "text"}


def parsing(inputs: dict[str, Any]) -> str:
    """How to parse the inputs, for the kinds of file they hold (by each read's path or address):
    told "parse CSV text with csv.DictReader", the writer of fresh follow-up-owner parsed a
    Markdown file as CSV and read a column ``Name`` it does not have. Inputs of no known kind get
    every way."""
    kinds = {_KINDS.get(str(value.get("path") or value.get("url") or "").rsplit(".", 1)[-1].lower(), "")
             for value in inputs.values() if isinstance(value, dict)}
    kinds.discard("")
    chosen = [text for kind, text in _PARSING.items() if kind in kinds] if kinds else \
        [_PARSING["csv"], _PARSING["json"], _PARSING["log"]]
    return "; ".join(chosen)


def goal_text(job: PackageJob) -> str:
    """The package's goal as the model that rewrites it reads it: with the request it answers,
    when its result is what the request asks for (``job.final``). A planner's goal may say
    little ("read", for "What rollout does config/flags.yaml set for new-checkout?"): the
    rewrite of fresh-rollout returned the flag's ``enabled`` where the request named its
    ``rollout``. A package another goes on from keeps its goal alone: the request is not its
    result's to answer."""
    if not job.final or not job.request or job.request.strip() in job.goal:
        return job.goal
    follows = f" (a follow-up to: {job.follows})" if job.follows else ""
    return f"{job.goal}\n(Its result answers the request: {job.request}{follows})"


def summarise_inputs(inputs: dict[str, Any], total: int = 3000) -> str:
    """The inputs as the reflexion model is shown them: each path, its type and an example
    (:func:`sandbox.input_outline.outline`)."""
    return outline(inputs, total)


def extract_code(reply: str) -> str:
    """The script in a model reply: the first ```python block, else the first fenced block,
    else the whole reply."""
    blocks = FENCE.findall(reply)
    for lang, body in blocks:
        if lang.lower() in ("python", "py", "python3"):
            return body.strip("\n")
    if blocks:
        return blocks[0][1].strip("\n")
    text = reply.strip()
    if text.startswith("```"):  # an opening fence that was never closed
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return text.removesuffix("```").strip()


def _same_code(new: str, old: str) -> bool:
    """The same script, but for blank lines, trailing spaces and tabs (indentation counts)."""
    def lines(code: str) -> list[str]:
        return [line.rstrip() for line in code.expandtabs().splitlines() if line.strip()]
    return lines(new) == lines(old)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str | dict)
        )
    return str(content)
