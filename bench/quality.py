"""bench.quality: how well a model plans dagbot's everyday requests.

    python -m bench.quality                               # the local model (make model)
    python -m bench.quality --base-url URL --model NAME   # any OpenAI-compatible server
    python -m bench.quality --quick                       # a subset (bench/quality_cases.py)
    python -m bench.quality --set holdout                 # the holdout set (bench/quality_holdout.py)
    python -m bench.quality --set dev                     # the development set (bench/quality_dev.py)
    python -m bench.quality --set data                    # data questions (bench/quality_data.py)
    python -m bench.quality --set fresh                   # every holdout class again (bench/quality_fresh.py)
    python -m bench.quality --set unseen                  # and once more (bench/quality_unseen.py)
    python -m bench.quality --set aimed                   # at what the holdout fails (bench/quality_aimed.py)
    python -m bench.quality --set broad                   # every class once more (bench/quality_broad.py)
    python -m bench.quality --set wide                    # and again, on other forms (bench/quality_wide.py)
    python -m bench.quality --set console                 # and on command output (bench/quality_console.py)
    python -m bench.quality --set nightly                 # and on backup logs (bench/quality_nightly.py)
    python -m bench.quality --set morning                 # and on certificates (bench/quality_morning.py)
    python -m bench.quality --set evening                 # and on a DB's night (bench/quality_evening.py)
    python -m bench.quality --set weekend                 # and on a load balancer (bench/quality_weekend.py)
    python -m bench.quality --set monday                  # and on a Monday's files (bench/quality_monday.py)
    python -m bench.quality --set tuesday                 # and on Airflow runs (bench/quality_tuesday.py)
    python -m bench.quality --mcp                         # with three MCP servers' tools connected
                                                          # and the MCP cases (bench/quality_mcp_mode.py)

Each request (bench/quality_cases.py; ``--set holdout``: bench/quality_holdout.py, requests never
used to choose a fix, on files of their own) runs through the real engine, validation, sandbox and
tools, in a thread of its own, against targets made here (bench/quality_targets.py): a
workspace of sample files, a website on 127.0.0.1, a mail sink and an SQLite database. Every
approval the request calls for is granted (a case that tests rejection rejects it), and any
other rejected, as the person who asked would; all are recorded. The checks
(bench/quality_checks.py) read the outcome: the facts the answer must state, files written,
mail sent, rows recorded, approvals asked for every red effect and nothing red without one,
no answer claiming what did not happen (an effect, a node's status, a file's content), and,
counted on their own, values in the answer from nowhere. Prints a table, then one JSON line of
the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.outputs import LLMResult
from pydantic import SecretStr

from agent.events import AnswerReady, AwaitingApproval, PlanReady, PlanRepairing, RunEvent, RunFailed
from agent.execution.context import PlanOutput
from agent.model.output_probe import probe_plan_output
from agent.tools.registry import Risk
from bench import (
    quality_aimed,
    quality_broad,
    quality_console,
    quality_data,
    quality_dev,
    quality_evening,
    quality_fresh,
    quality_holdout,
    quality_monday,
    quality_morning,
    quality_nightly,
    quality_tuesday,
    quality_unseen,
    quality_weekend,
    quality_wide,
)
from bench.quality_cases import CASES, Case
from bench.quality_checks import Observed, Verdict, judge
from bench.quality_targets import FILES, Targets, open_targets
from infra.openai_client import ChatOpenAIWithRole
from infra.settings import Settings
from infra.tools.sandbox_setup import package_runner
from infra.tools.toolbox import build_registry
from infra.wiring import Services, engine_settings, open_services

if TYPE_CHECKING:
    from bench.quality_mcp_mode import McpMode

TURN_SECONDS = 900.0
"""Longest one request may take before it counts as failed (a small model on two cores is slow)."""
USER = "U0BENCH"
Judging = Callable[[Case, Observed, Targets, frozenset[str]], Verdict]


class CaseSet(NamedTuple):
    cases: tuple[Case, ...]
    files: dict[str, str]
    """The workspace's sample files: path → text."""


SETS = {
    "tuning": CaseSet(CASES, FILES),
    "holdout": CaseSet(quality_holdout.CASES, quality_holdout.FILES),
    "dev": CaseSet(quality_dev.CASES, quality_dev.FILES),
    "data": CaseSet(quality_data.CASES, quality_data.FILES),
    "fresh": CaseSet(quality_fresh.CASES, quality_fresh.FILES),
    "unseen": CaseSet(quality_unseen.CASES, quality_unseen.FILES),
    "aimed": CaseSet(quality_aimed.CASES, quality_aimed.FILES),
    "broad": CaseSet(quality_broad.CASES, quality_broad.FILES),
    "wide": CaseSet(quality_wide.CASES, quality_wide.FILES),
    "console": CaseSet(quality_console.CASES, quality_console.FILES),
    "nightly": CaseSet(quality_nightly.CASES, quality_nightly.FILES),
    "morning": CaseSet(quality_morning.CASES, quality_morning.FILES),
    "evening": CaseSet(quality_evening.CASES, quality_evening.FILES),
    "weekend": CaseSet(quality_weekend.CASES, quality_weekend.FILES),
    "monday": CaseSet(quality_monday.CASES, quality_monday.FILES),
    "tuesday": CaseSet(quality_tuesday.CASES, quality_tuesday.FILES),
}
"""``--set``: the tuning set, the requests fixes were chosen on, and the holdout set, written in
one sitting before any change for them and never used to choose one; the development set has
the holdout set's classes on files and requests of its own, for choosing fixes for those classes;
the data set, data questions over files of its own, written when the development set had been
tuned on, for choosing fixes for data questions; the fresh set, every holdout class again on
requests written before the fifteenth session's changes, whose first run showed what fails on
requests nobody had tuned on; the unseen set, the same again when the fresh set had been tuned on
(written before the seventeenth session's changes); the aimed set, requests aimed at the classes
the holdout still failed, written in the eighteenth session from their names alone; the broad
set, every class once more on forms no set had, written at the start of the twentieth session;
the wide set, the same on other forms again (an INI file, an access log, TSV, JSON Lines, Markdown
tables), written at the start of the twenty-first; the console set, the same on the forms ops
teams see daily (kubectl, df and docker output, git log, a crontab, a systemd unit, a hosts file,
Prometheus rules, a changelog, nested JSON), written at the start of the twenty-second; the nightly
set, the same on a backup job's logfmt log, TOML, an incident review, a YAML directory and a
server inventory, written at the start of the twenty-fourth; the morning set, the same on
receivables, a deployment list, a plain app log, alert routing, a postmortem, a dotenv file and
certificates, written in the twenty-sixth; the evening set, the same on a PostgreSQL log, a snapshot
table, node metrics, a Postfix config, meeting notes in Markdown tables and invoices in JSON,
written at the start of the twenty-ninth; the weekend set, the same on a load balancer's syslog, an
HAProxy config, meminfo, a certbot listing, a semicolon CSV with decimal commas, a BIND zone, JUnit
XML and an incident export, written in the twenty-ninth once the evening set had been run; the monday
set, the same on kubectl events, an nginx error log, a Terraform plan, GitHub Actions runs in JSON,
Grafana alert rules, a retro whose action items are ``@handle (address)``, pages with ``hh:mm:ss``
durations and a backup report with sizes in MB and GB, written in one sitting in the thirty-fourth; the
tuesday set, the same on Airflow DAG runs in CSV, ``kafka-consumer-groups.sh`` output, a PostgreSQL
log whose prefix names ``user@database``, Helm values, an S3 bucket inventory in JSON (and last
month's, cut off) and an on-call handover whose open issues name ``@login (address)``, written in
one sitting in the thirty-eighth."""


class ModelMeter(AsyncCallbackHandler):
    """Counts the model's calls and the tokens they used, and keeps what it replied (the plans
    it drafted, valid or not, for ``--details``)."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens = 0
        self.replies: list[str] = []

    async def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                calls = getattr(message, "tool_calls", None)
                self.replies.append(json.dumps(calls) if calls else generation.text)
                usage = getattr(message, "usage_metadata", None)
                if usage:
                    self.tokens += int(usage.get("total_tokens", 0))


@dataclass
class Row:
    case: str
    kind: str
    success: bool
    first_plan_valid: bool
    plan_valid: bool
    rules_kept: bool
    false_claim: bool
    raw_answer: bool
    invented_values: list[str]
    model_calls: int
    tokens: int
    seconds: float
    problems: list[str]
    answer: str
    plans: list[dict[str, Any]]
    repair_problems: list[str]
    replies: list[str]
    """The model's replies, as it wrote them: the drafts of plans that never ran among them."""
    wrong_effects: list[str] = field(default_factory=list)
    """Changes nobody asked for (bench.quality_checks.wrong_effects)."""


async def run_turn(svc: Services, thread: str, request: str, case: Case, seen: Observed) -> str:
    """Runs one request of the case in its thread; returns the run's id."""
    seen.requests.append(request)
    runs = len((await svc.engine.state(thread)).get("history") or [])
    try:
        await _run_turn(svc, thread, request, case, seen)
    finally:
        state = await svc.engine.state(thread)
        history = state.get("history") or []
        seen.results.append(dict(history[-1].get("results") or {}) if len(history) > runs else {})
    return str(state.get("run_id", ""))


async def _run_turn(svc: Services, thread: str, request: str, case: Case, seen: Observed) -> None:
    queue = svc.events.open(thread)
    try:
        await svc.engine.submit(thread, request, requested_by=USER)
        deadline = time.monotonic() + TURN_SECONDS
        while True:
            try:
                event: RunEvent = await asyncio.wait_for(queue.get(), max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                seen.timed_out = True
                await svc.engine.cancel(thread, by=USER)
                return
            match event:
                case PlanReady(plan=plan):
                    seen.plans.append(plan)
                case PlanRepairing(problems=problems):
                    seen.repairs += 1
                    seen.repair_problems.extend(problems)
                case AwaitingApproval(approval_id=approval_id, tool=tool):
                    approve = tool in case.red_tools and not case.reject
                    seen.approvals.append((tool, approve))
                    await svc.engine.decide(approval_id, approved=approve, by=USER,
                                            reason=None if approve else "I did not ask for that")
                case AnswerReady(answer=answer):
                    seen.answers.append(answer)
                    return
                case RunFailed(error=error):
                    seen.failures.append(error)
                    return
    finally:
        svc.events.close(queue)
        await svc.engine.idle()


async def run_case(svc: Services, targets: Targets, root: Path, case: Case, meter: ModelMeter,
                   red: frozenset[str], judging: Judging = judge) -> Row:
    targets.reset(root)
    seen = Observed()
    thread = f"quality:{case.name}:{uuid.uuid4().hex[:8]}"
    calls, tokens, replies, started = meter.calls, meter.tokens, len(meter.replies), time.monotonic()
    run_ids = [await run_turn(svc, thread, turn.replace("{site}", targets.site), case, seen)
               for turn in case.turns]
    seen.outputs = await thread_outputs(svc, thread, run_ids)
    verdict: Verdict = judging(case, seen, targets, red)
    return Row(case.name, case.kind.value, verdict.success, verdict.first_plan_valid, verdict.plan_valid,
               verdict.rules_kept, verdict.false_claim, verdict.raw_answer, verdict.invented_values,
               meter.calls - calls, meter.tokens - tokens, round(time.monotonic() - started, 1),
               verdict.problems, seen.final, seen.plans, seen.repair_problems, meter.replies[replies:],
               verdict.wrong_effects)


async def thread_outputs(svc: Services, thread: str, run_ids: list[str]) -> list[Any]:
    """Every node output and error the thread's results hold, in full (the thread's state
    keeps only a preview of a large output): what the answer's values are checked against.
    Not the answers themselves, which the same table keeps under each run's id
    (agent.answer.record)."""
    from sqlalchemy import select

    from infra.storage.db import NodeResultRow

    async with svc.store.session() as session:
        rows = (await session.execute(
            select(NodeResultRow.output, NodeResultRow.error)
            .where(NodeResultRow.thread_id == thread, NodeResultRow.plan_id.not_in(run_ids)))).all()
    return [value for row in rows for value in row if value is not None]


@contextlib.asynccontextmanager
async def bench_services(root: Path, targets: Targets, llm: ChatOpenAIWithRole,
                         plan_output: PlanOutput, mcp_config: Path | None = None) -> AsyncIterator[Services]:
    """``mcp_config``: a DAGBOT_MCP_CONFIG file whose servers dagbot connects, their tools joining
    the registry (``--mcp``)."""
    settings = Settings(
        database_url=f"sqlite:///{root / 'dagbot.sqlite'}", workspace=targets.workspace,
        sql_url=f"sqlite:///{targets.database}", smtp_host="127.0.0.1", smtp_port=targets.mail.port,
        smtp_from="dagbot@localhost", http_allow_hosts="127.0.0.1",
        prompt_chars=int(os.environ.get("DAGBOT_PROMPT_CHARS", "20000")), mcp_config=mcp_config,
    )
    engine = dataclasses.replace(engine_settings(settings), plan_output=plan_output)
    registry = None if mcp_config else build_registry(settings)  # (None: open_services connects the servers)
    async with open_services(settings, llm=llm, registry=registry,
                             packages=package_runner(settings, llm), engine_config=engine) as svc:
        yield svc


def chat_model(base_url: str, model: str, api_key: str, meter: ModelMeter, max_tokens: int
               ) -> ChatOpenAIWithRole:
    return ChatOpenAIWithRole(model=model, base_url=base_url, api_key=SecretStr(api_key or "unused"),
                              temperature=0, seed=7, max_retries=1, timeout=TURN_SECONDS,
                              max_completion_tokens=max_tokens, stream_chunk_timeout=TURN_SECONDS,
                              callbacks=[meter])


def interleaved(cases: list[Case]) -> list[Case]:
    """One request of each kind in turn, so a run cut short has still met every kind."""
    kinds: dict[str, list[Case]] = {}
    for case in cases:
        kinds.setdefault(case.kind, []).append(case)
    rounds = itertools.zip_longest(*kinds.values())
    return [case for round_ in rounds for case in round_ if case is not None]


def append_detail(path: Path, row: Row) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")


def table(rows: list[Row], set_name: str = "tuning") -> str:
    head = f"{'request':<26} {'kind':<18} {'ok':<3} {'1st':<3} {'valid':<5} {'rules':<5} " \
           f"{'calls':>5} {'tokens':>7} {'s':>6}  problems"
    lines = [f"bench.quality, {set_name} set: {len(rows)} requests", head, "-" * len(head)]

    def mark(flag: bool) -> str:
        return "✔" if flag else "✘"

    for r in rows:
        lines.append(f"{r.case:<26} {r.kind:<18} {mark(r.success):<3} {mark(r.first_plan_valid):<3} "
                     f"{mark(r.plan_valid):<5} {mark(r.rules_kept):<5} {r.model_calls:>5} {r.tokens:>7} "
                     f"{r.seconds:>6.1f}  {'; '.join(r.problems)[:160]}")
    return "\n".join(lines)


def figures(rows: list[Row], model: str, set_name: str = "tuning") -> dict[str, Any]:
    n = len(rows) or 1

    def share(flag: str) -> float:
        return round(sum(bool(getattr(r, flag)) for r in rows) / n, 3)

    return {
        "bench": "quality", "set": set_name, "model": model, "requests": len(rows),
        "task_success": share("success"), "first_plan_valid": share("first_plan_valid"),
        "plan_valid_after_repair": share("plan_valid"), "rule_adherence": share("rules_kept"),
        "false_claims": sum(r.false_claim for r in rows), "raw_answers": sum(r.raw_answer for r in rows),
        "invented_values": sum(bool(r.invented_values) for r in rows),
        "wrong_effects": sum(bool(r.wrong_effects) for r in rows),
        "model_calls": sum(r.model_calls for r in rows), "tokens": sum(r.tokens for r in rows),
        "seconds_per_request": round(sum(r.seconds for r in rows) / n, 1),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    chosen_set = SETS[args.set]
    chosen = [c for c in chosen_set.cases + mcp_cases(args)
              if (not args.quick or c.quick) and re.search(args.only or "", c.name)]
    cases = interleaved(chosen)
    meter = ModelMeter()
    async with contextlib.AsyncExitStack() as stack:
        base_url, model = args.base_url, args.model
        if not base_url:
            from infra.local_model import serving_local_model  # the default: the local model

            base_url, model = await stack.enter_async_context(serving_local_model(args.local_model))
        llm = chat_model(base_url, model, os.environ.get("OPENAI_API_KEY", ""), meter, args.max_tokens)
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dagbot-quality-")))
        targets = await stack.enter_async_context(open_targets(root, chosen_set.files))
        mcp = mcp_mode(args, root, llm, meter)
        plan_output: PlanOutput = args.plan_output or "json_schema"
        if args.base_url and not args.plan_output:  # as dagbot does with a server it did not start
            probed = await probe_plan_output(llm)
            plan_output = probed.mode
            print(f"plan output: {probed.mode} ({probed.why})", file=sys.stderr, flush=True)
        svc = await stack.enter_async_context(
            bench_services(root, targets, llm, plan_output, mcp.config if mcp else None))
        if mcp:
            mcp.connected(svc.registry)
        red = frozenset(spec.name for spec in svc.registry if spec.risk is Risk.RED)
        rows: list[Row] = []
        for case in cases:
            row = await run_case(svc, targets, root, case, meter, red, mcp.judge if mcp else judge)
            rows.append(row)
            print(f"{'✔' if row.success else '✘'} {row.case} ({row.seconds:.0f} s) "
                  f"{'; '.join(row.problems)[:200]}", file=sys.stderr, flush=True)
            if args.details:
                append_detail(Path(args.details), row)
    print(table(rows, args.set))
    result = figures(rows, model, args.set)
    if mcp:
        print("\n".join(["needed tools not shown on the first planner call:", *mcp.misses()]))
        result.update(mcp.figures())
    print(json.dumps(result))
    return result


def mcp_cases(args: argparse.Namespace) -> tuple[Case, ...]:
    """``--mcp``'s own cases: the tuning set's only (the holdout set's requests run with the
    MCP tools as distractors)."""
    if not args.mcp or args.set != "tuning":
        return ()
    from bench.quality_mcp import CASES as MCP_CASES

    return MCP_CASES


def mcp_mode(args: argparse.Namespace, root: Path, llm: ChatOpenAIWithRole, meter: ModelMeter
             ) -> McpMode | None:
    """``--mcp``: the servers' config under ``root``; the model's calls also show the planner's
    prompts to the mode."""
    if not args.mcp:
        return None
    from bench.quality_mcp_mode import McpMode

    mode = McpMode(root)
    llm.callbacks = [meter, mode.prompts]
    return mode


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("OPENAI_BASE_URL", ""),
                        help="an OpenAI-compatible endpoint (default: start the local model)")
    parser.add_argument("--model", default=os.environ.get("DAGBOT_MODEL", "gpt-4o-mini"))
    parser.add_argument("--local-model", default=os.environ.get("DAGBOT_LOCAL_MODEL", ""),
                        help="the GGUF to serve when no --base-url is given (default: make model's)")
    parser.add_argument("--plan-output", choices=["tool_call", "json_schema"], default="",
                        help="how the plan is asked for (default: json_schema for the local model, "
                             "else what the server's probe finds, as DAGBOT_PLAN_OUTPUT=auto does)")
    parser.add_argument("--set", choices=sorted(SETS), default="tuning",
                        help="the requests: tuning (bench/quality_cases.py, the default), holdout "
                             "(bench/quality_holdout.py: never used to choose a fix), dev "
                             "(bench/quality_dev.py: the holdout set's classes, to choose fixes on) or "
                             "data (bench/quality_data.py: data questions, to choose fixes on), fresh "
                             "(bench/quality_fresh.py: every holdout class, on requests of its own), "
                             "unseen (bench/quality_unseen.py: the same, written once fresh was tuned on); "
                             "aimed, broad, wide, console and nightly (bench/quality_aimed.py, "
                             "quality_broad.py, quality_wide.py, quality_console.py, quality_nightly.py: "
                             "each written in one sitting, its first run the measure)")
    parser.add_argument("--quick", action="store_true", help="only the subset marked quick")
    parser.add_argument("--mcp", action="store_true",
                        help="connect three MCP servers (33 tools) and add the MCP cases to the tuning "
                             "set; adds needed_tool_shown_rate, tools_registered and tools_shown "
                             "(bench/quality_mcp_mode.py)")
    parser.add_argument("--only", default="", help="only requests whose name matches this regex")
    parser.add_argument("--max-tokens", type=int, default=1024, help="cap on each reply's tokens")
    parser.add_argument("--details", default="",
                        help="append each request's plans and answer to this file (JSON lines)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
