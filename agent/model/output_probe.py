"""Which way a server best holds the planner to the plan's shape, found by one request at start.

A server that holds a reply's text to a JSON schema (``response_format: json_schema``:
llama.cpp, vLLM, Ollama, OpenAI) leaves a small model no way to write anything but a plan;
a forced tool call is only asked for, and a small model may answer it with prose (issue 43: three
of eight requests to a llama.cpp server dagbot had not started ended "the plan is not valid
JSON"). So ``DAGBOT_PLAN_OUTPUT=auto`` asks once, at start, for a reply held to a schema the
prompt does not describe: a server that holds replies to it answers ``{"dagbot": "ready"}``
whatever the prompt says; one that refuses the format answers with an HTTP error, and one that
ignores it answers the prompt. Only the first gets the schema; the others the forced tool call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from agent.model.llm import http_status, model_error_summary
from agent.model.tool_schemas import json_schema_format

PROBE_NAME = "dagbot_output_probe"
PROBE_SCHEMA = {"type": "object", "properties": {"dagbot": {"type": "string", "enum": ["ready"]}},
                "required": ["dagbot"], "additionalProperties": False}
PROBE_PROMPT = "Say hello in one word."
"""Answered as asked, the reply is no JSON: only a server holding it to the schema makes it one."""
PROBE_TOKENS = 24

OutputMode = Literal["tool_call", "json_schema"]


@dataclass(frozen=True)
class ProbedOutput:
    mode: OutputMode
    why: str
    """Why, for the log line at start."""


async def probe_plan_output(llm: BaseChatModel) -> ProbedOutput:
    """One small request held to :data:`PROBE_SCHEMA`: the plan's output mode for this server."""
    held = llm.bind(extra_body={"response_format": json_schema_format(PROBE_SCHEMA, PROBE_NAME)},
                    max_tokens=PROBE_TOKENS)
    try:
        reply = await held.ainvoke([HumanMessage(PROBE_PROMPT)])
    except Exception as exc:  # any failure: fall back to the mode every server takes
        status = http_status(exc)
        if status is not None and 400 <= status < 500 and status not in (401, 403, 429):
            return ProbedOutput("tool_call", "the server refused a json_schema response format "
                                f"({model_error_summary(exc)}): the plan is asked for as a forced tool call")
        return ProbedOutput("tool_call", f"could not ask the server ({model_error_summary(exc)}): the plan "
                                         "is asked for as a forced tool call, which every server takes")
    try:
        answered = json.loads(reply.text)
    except ValueError:
        answered = None
    if answered == {"dagbot": "ready"}:
        return ProbedOutput("json_schema", "the server held a reply to a JSON schema: the plan is held "
                                           "to its schema")
    return ProbedOutput("tool_call", "the server took a json_schema response format but did not hold "
                                     "its reply to it: the plan is asked for as a forced tool call")
