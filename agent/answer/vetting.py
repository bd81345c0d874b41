"""What the joiner's model wrote, vetted before it is posted as the answer.

- ``${…}`` references to results are filled in (:func:`filled`);
- a tool call written out as the answer, a reference left unfilled, the results pasted as
  the prompt lists them (raw JSON), or code for the person to run is no answer for a person
  (:func:`unreadable`): the joiner replans to make that call or compute that value, or dagbot
  gives the results in its own words;
- a claim of a change no red node made gets a note, or, where the request commands one, is
  replaced by dagbot's reply from the run's facts (:func:`unclaimed`, :mod:`agent.answer.change_claims`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from agent.answer.change_claims import (
    ASK_AGAIN_NOTE,
    NO_CHANGE_NOTE,
    changes_made,
    claims_a_change,
    with_no_change_note,
)
from agent.answer.facts import facts_reply
from agent.model.written_calls import written_calls
from agent.plan.references import REFERENCE, fill_text, malformed_reference_ids, strings
from agent.state import AgentState
from agent.tools.effects import commanded_effects

CALLED = "it called "
"""How :func:`unreadable` begins when the answer was a tool call written out."""


def outputs_of(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {node_id: result["output"] for node_id, result in results.items() if "output" in result}


def filled(answer: str, results: Mapping[str, Mapping[str, Any]]) -> str:
    """``answer`` with the references to results it can fill filled in."""
    return fill_text(answer, outputs_of(results))


def unreadable(answer: str, results: Mapping[str, Mapping[str, Any]], request: str = "") -> str | None:
    """Why ``answer`` is not one to post, or None: a tool call written as text (the model
    meant to call it), a ``${…}`` reference to a node's result left in it (other ``${…}``,
    a shell variable in a file shown, say, are text), code for the person to run
    (:func:`code_to_run`), or tool definitions written out (:data:`_TOOL_SCHEMA`)."""
    calls, _ = written_calls(answer)
    if calls:
        return CALLED + ", ".join(f"{c.name}({json.dumps(c.args, ensure_ascii=False)})" for c in calls)
    if any(match.group(1) in results for match in REFERENCE.finditer(answer)) or malformed_reference_ids(
            answer, results):
        return "it holds a ${…} reference to a result instead of the value"
    if _COPIED_RESULT.search(answer):
        return COPIED_RESULTS
    if _NULL_STATED.search(answer) and not any(_NULL_WORD.search(text) for result in results.values()
                                               for text in strings(result.get("output"))):
        return NULL_STATED
    if code_to_run(answer, results, request):
        return CODE_TO_RUN
    if _TOOL_SCHEMA.search(answer) and not any(_TOOL_SCHEMA.search(text) for result in results.values()
                                               for text in strings(result.get("output"))):
        return TOOLS_WRITTEN
    if (told := narrated(answer)) and not any(told.lower() in text.lower() for result in results.values()
                                             for text in strings(result.get("output"))):
        return NARRATED
    return None


CODE_TO_RUN = "it gives code for the person to run instead of the answer"
TOOLS_WRITTEN = "it writes out tool definitions instead of the answer"
_TOOL_SCHEMA = re.compile(r'"type"\s*:\s*"function"\s*,\s*"function"\s*:'
                          r'|"parameters"\s*:\s*\{\s*"(?:type|properties|required)"\s*:')
"""A function's definition in the form a model's tools are given (``{"type": "function",
"function": {"name": "read_csv", "parameters": {…}}}``): monday mail-checkout-resolve's joiner
answered with eight such blocks, made-up tools to "read the CSV" and "mail the total", after the
package that was to compute the total failed. A result that holds such a schema (an API's
description read) is data, not the model's invention."""
NARRATED = "it says what the model would do next instead of what the results say"
_NARRATED = re.compile(
    r"\b(?:I|we)(?: (?:would|will|first|then|still))* (?:need|have|must|should|want|am going|are going) to "
    r"(?:first |then )?(?:search|read|look|check|find|open|query|fetch|list|parse|compute|count)\b"
    r"|\b(?:I'll|I will|let me|let's|we'll|we will) (?:first |now |then )?"
    r"(?:search|read|look|check|find|open|query|fetch|list|parse|compute|count)\b", re.I)
"""The model's plan told as the answer ("To find the Slack channel …, I need to search the
`alerting/routes.yaml` file … and then look for the invoice number …", after a search that found
nothing: morning channel-and-invoice): what it would do is no answer, and the results say more.
Only where the answer opens (:func:`narrated`), and not as a result says it (a note quoted: "we
need to check the replica count")."""
_PURPOSE = re.compile(r"\s*(?:(?:To|In order to)\b[^,.\n]{0,200},|First,|Now,|OK,|Okay,|Sure,)\s*", re.I)


def narrated(answer: str) -> str | None:
    """The words by which ``answer`` opens telling what the model would do ("To find …, I need to
    search", "Let me check"), or None: only at its opening, where a plan told is told; advice
    after an answer ("Disk is 95% full; we need to check the backups") is part of it."""
    purpose = _PURPOSE.match(answer)
    opening = answer[purpose.end():] if purpose else answer.lstrip()
    found = _NARRATED.match(opening)
    return found.group() if found else None


NULL_STATED = "it states null as a value, which no result holds: a step computed nothing"
_NULL_WORD = re.compile(r"\b(?:null|None|undefined|NaN)\b")
_NULL_STATED = re.compile(r"(?:\b(?:is|are|was|were)|[:=])\s*[`'\"]?(?:null|None|undefined|NaN)[`'\"]?"
                          r"\s*(?:[.,;)]|$)", re.M)
"""A value stated as null ("The average latency … is null."): a template or a joiner filled in a
package's output that computed nothing (morning search-avg-latency)."""
COPIED_RESULTS = "it copies the results as the prompt lists them (a result's JSON) instead of saying them"
_FENCED = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.S)
_CODE_LANGUAGES = frozenset({"python", "py", "python3", "sh", "bash", "shell", "js", "javascript"})
_COMPUTING = re.compile(r"^\s*(?:import \w|from \w+ import )|\bopen\(|\bread_csv\(|\bjson\.load", re.M)
"""Code that reads data to compute from it: what a package would have run."""
_ASKS_FOR_CODE = re.compile(
    r"\b(?:code|scripts?|snippets?|functions?|programs?|commands?|regex|quer(?:y|ies)|sql|python|bash|shell|"
    r"how (?:do|can|would|should) (?:i|we|you))\b|\.(?:py|sh)\b", re.I)


def code_to_run(answer: str, results: Mapping[str, Mapping[str, Any]], request: str) -> bool:
    """Whether ``answer`` shows code that reads data to compute from it (a fenced block that
    imports, opens or loads) that no result holds, for a request that asks for no code:
    "percentage of builds that passed" was answered "you can use the following Python code",
    after the package that was to compute it had failed. A file read and shown, a query a node
    ran, or code the person asked for stays."""
    if _ASKS_FOR_CODE.search(request):
        return False
    shown = [result.get("output", result.get("preview")) for result in results.values()]  # (large: a preview)
    held = json.dumps(shown, ensure_ascii=False, default=str)
    for match in _FENCED.finditer(answer):
        language, body = match.group(1).lower(), match.group(2).strip()
        if (language in _CODE_LANGUAGES or not language) and _COMPUTING.search(body) \
                and json.dumps(body, ensure_ascii=False)[1:-1] not in held and body not in held:
            return True
    return False


_COPIED_RESULT = re.compile(
    r"^[ \t]*[-*•]?[ \t]*[^\n:→]{1,80}:[ \t]*(?:[\w.-]+[ \t]+)?done[ \t]*(?:(?:→|->)[ \t]*"
    r"(?:[{\[]|(?:true|false|null|-?\d+(?:\.\d+)?)[ \t]*$)|\(what the request asks for was computed)"
    r"|^[ \t]*[-*•]?[ \t]*[^\n:→]{1,80}:[ \t]*[\w.-]+[ \t]*(?:→|->)[ \t]*[{\[][ \t]*\"", re.M)
"""A line of the results as the joiner's prompt lists them (``- email: done → {"sent_to": …``),
written out as the answer: a small model pasted them, raw JSON, for a person to read, under the
node's id or under words of its own (``- secondary on call: done → {"matches": []…``); a JSON
scalar alone after the arrow too (``- rollout: done → false``: which value of what, a person
cannot tell); the node's tool named before its status (``- read_note: read_note done → {…``), or
the prompt's note on a read a package computed from copied out (``- find: done (what the request
asks for was computed from it…``), unseen mail-follow-up-owners; or a JSON object after an arrow
under any one word in the status's place (``- files: sessions_cache → {"files": ["path/to/…"]}``,
a made-up listing: monday find-sessions-type)."""


def says_nothing(answer: str, results: Mapping[str, Mapping[str, Any]], request: str) -> bool:
    """Whether ``answer`` says nothing the results hold that the request did not say already: no
    word or number of it is in a result but not in the request, function words aside ("The new
    search pod is not scheduled because it is in the `k8s/events-shop-prod.txt` file.", for
    "why won't the new search pod get scheduled? it's in k8s/events-shop-prod.txt": monday
    search-unscheduled). Only where a result is content read (a file's or a page's); a yes or no is
    no such answer."""
    if not answer.strip() or _YES_OR_NO.match(answer) or not any(
            isinstance(output := result.get("output"), Mapping) and isinstance(output.get("content"), str)
            for result in results.values()):
        return False  # (only an answer about what was read: a file's or a page's content)
    held = {word for result in results.values()
            for text in _texts([result.get("output"), result.get("preview"), result.get("error")])
            for word in _words(text)}
    if not held:
        return False
    told = _words(answer) - _words(request) - _FUNCTION_WORDS
    return not told & held


def _texts(value: Any) -> list[str]:
    """The strings and numbers in ``value``, keys too, as text."""
    if isinstance(value, Mapping):
        return [text for key, item in value.items() for text in (str(key), *_texts(item))]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return [] if value is None else [str(value)]


def _words(text: str) -> set[str]:
    return {word.strip(".-/") for word in _WORD.findall(text.lower())} - {""}


_WORD = re.compile(r"[\w][\w.\-/:]*")
_YES_OR_NO = re.compile(r"\s*(?:yes|no|none|nothing|nobody|never|not any)\b", re.I)
_FUNCTION_TEXT = """
a an the is are was were be been being it its it's this that these those there here as at by for from in
into of on onto to with without and or but nor not no so than then because since while if when where which
what who whom whose why how do does did done has have had will would can could should may might must
i you he she we they them their our your his her my me us file files line lines result results value
values according says said shows show listed list found find read reads named name also only just
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
"""Words that say nothing of what a result holds: an answer made of them and of the request's
words says nothing."""


def unclaimed(answer: str, state: AgentState, red_tools: Collection[str],
              makeable: Collection[str] = ()) -> str:
    """``answer``, noted when it claims a change no red node made, in this plan or one a replan
    replaced (:func:`marked_changes`: a replan's answer "… and it has been sent to
    data@example.com" stood, after two plans that sent nothing, unseen mail-processed). Where
    the request commands a change, such an answer is no answer at all: dagbot's own reply from
    the run's facts replaces it ("Reminder sent to Amara Okafor, Jonas Berg…" for a plan that
    sent nothing, a note below it the only word otherwise: nightly mail-action-owners). An answer
    to a request commanding a change that a red tool here makes (``makeable``: their effects),
    with no red step in the plan, gets the same note unless it says itself that nothing was done."""
    if not answer or _changed_before(state):
        return answer
    plan, results = state.get("plan") or {}, state.get("results") or {}
    noted = with_no_change_note(answer, plan, results, red_tools)
    commanded = commanded_effects(str(state.get("request") or ""))
    if noted == answer and commanded & set(makeable) and not _NOT_DONE.search(answer) \
            and not any(node.get("tool") in red_tools for node in plan.get("nodes") or []):
        # (asked for a change a tool here makes, and no step was to: "email them api-3's address"
        # lost its mail, to an address nobody named, and the answer gave the address as if it
        # were all: weekend follow-up-mail-assignee)
        return f"{answer}\n\n{NO_CHANGE_NOTE}"
    if noted == answer or not commanded:
        return noted
    return f"{facts_reply(plan, results, red_tools, why=UNMADE_WHY)}\n\n{ASK_AGAIN_NOTE}"


_NOT_DONE = re.compile(r"\b(?:not|no|never|nothing|cannot|unable|can't|won't|didn't)\b|n't\b", re.I)
"""An answer's words that may say the change was not made: it is left to say so itself."""


UNMADE_WHY = "says a change was made, and no step of this request made one"


def unmade_claim(answer: str, state: AgentState, red_tools: Collection[str]) -> list[str]:
    """The red nodes of the plan that did not run (rejected, failed, skipped) when ``answer``
    says a change was made and none was, in this plan or one a replan replaced; [] otherwise.
    Such an answer is replaced by dagbot's own reply, which says what happened: a rejected write
    was answered "the IPs … were written to reports/5xx-ips.txt", and a note below it was all
    that said otherwise (wide rejected-5xx-ips)."""
    plan, results = state.get("plan") or {}, state.get("results") or {}
    if _changed_before(state) or changes_made(plan, results, red_tools) or not claims_a_change(answer):
        return []
    return [str(node.get("id")) for node in plan.get("nodes") or [] if node.get("tool") in red_tools
            and (results.get(str(node.get("id"))) or {}).get("status") in ("rejected", "failed", "skipped")]


CHANGED = "changed"
"""The mark of a red node's result that ran to its end, kept when a replan replaces its plan."""


def _changed_before(state: AgentState) -> bool:
    """Whether a plan a replan replaced changed something (:func:`marked_changes`)."""
    earlier = state.get("earlier_results") or []
    return any(result.get(CHANGED) for results in earlier for result in results.values())


def marked_changes(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                   red_tools: Collection[str]) -> dict[str, dict[str, Any]]:
    """``results``, each red node's that ran to its end marked :data:`CHANGED`: the plan is gone
    once a replan replaces it, and its results alone would not say which changed anything."""
    red = {str(node.get("id")) for node in plan.get("nodes") or [] if node.get("tool") in red_tools}
    changed = {node_id for node_id in red if (results.get(node_id) or {}).get("status") == "done"}
    return {node_id: {**result, CHANGED: True} if node_id in changed else dict(result)
            for node_id, result in results.items()}
