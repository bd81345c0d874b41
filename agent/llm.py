"""Structured calls to the chat model: a forced tool call whose arguments are the answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel

_FENCE = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.S)


@dataclass(frozen=True)
class StructuredReply:
    data: Any
    """The arguments of the forced tool call (or JSON found in the text), else the raw text."""
    tokens: int


class LLMUnavailable(Exception):
    """The model could not be reached or answered with an error."""


async def call_structured(
    llm: BaseChatModel, messages: list[BaseMessage], schema: type[BaseModel], name: str
) -> StructuredReply:
    bound = llm.bind_tools([_as_tool(schema, name)], tool_choice=name)
    try:
        reply = await bound.ainvoke(messages)
    except Exception as exc:  # the client's error types vary by provider
        raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc
    assert isinstance(reply, AIMessage)
    tokens = int(reply.usage_metadata["total_tokens"]) if reply.usage_metadata else 0
    if reply.tool_calls:
        return StructuredReply(reply.tool_calls[0]["args"], tokens)
    return StructuredReply(_json_in_text(reply.text), tokens)


def _as_tool(schema: type[BaseModel], name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": (schema.__doc__ or name).strip(),
            "parameters": schema.model_json_schema(),
        },
    }


def _json_in_text(text: str) -> Any:
    match = _FENCE.search(text)
    candidate = match.group(1) if match else text.strip()
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        return text
