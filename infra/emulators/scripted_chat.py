"""A scripted chat model: the LLM seam's fake.

The in-memory model fake that the tests and the benchmarks share (the HTTP-level one, which
exercises the real OpenAI client, is :mod:`infra.emulators.model_server`, whose script takes
the same string and dict replies). Each call pops the next scripted reply. A reply is a
string (plain content), a dict (returned as a call of the first bound tool with those
arguments: the forced ``plan`` for the planner, ``replan`` for the joiner), an AIMessage
(returned as it is, e.g. text and a tool call together), or a callable that receives the
prompt messages and returns one of those.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

Reply = str | dict[str, Any] | AIMessage | Callable[[list[BaseMessage]], "str | dict[str, Any] | AIMessage"]

_ids = itertools.count(1)


class ScriptedChatModel(BaseChatModel):
    replies: list[Any] = Field(default_factory=list)
    """Replies still to give, in order."""
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    """Every prompt received, in order."""
    offered: list[list[str]] = Field(default_factory=list)
    """The names of the tools bound for every call, in order ([] for a plain completion)."""
    tool_name: str | None = None
    tools: list[str] = Field(default_factory=list)
    repeat_last: bool = False
    """Keep giving the last reply once the script runs out (for 'always bad' LLMs, and for a
    benchmark's model: one callable that reads each prompt)."""
    record: bool = True
    """Keep :attr:`calls` and :attr:`offered`. False for a model that answers thousands of
    calls (a benchmark's): the record of prompts would grow for ever, and get repr'd."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        names = [convert_to_openai_tool(tool)["function"]["name"] for tool in tools]
        bound = self.model_copy(update={"tool_name": names[0] if names else None, "tools": names})
        # share the script and the record of calls with the original
        object.__setattr__(bound, "replies", self.replies)
        object.__setattr__(bound, "calls", self.calls)
        object.__setattr__(bound, "offered", self.offered)
        return bound

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        if self.record:
            self.calls.append(list(messages))
            self.offered.append(list(self.tools))
        if not self.replies:
            raise AssertionError("ScriptedChatModel: no reply scripted for this call")
        reply = self.replies[0] if (self.repeat_last and len(self.replies) == 1) else self.replies.pop(0)
        if callable(reply):
            reply = reply(messages)
        usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        if isinstance(reply, AIMessage):
            return reply.model_copy(update={"usage_metadata": reply.usage_metadata or usage})
        if isinstance(reply, dict):
            return AIMessage(
                content="",
                tool_calls=[{"name": self.tool_name or "tool", "args": reply, "id": f"call_{next(_ids)}"}],
                usage_metadata=usage,
            )
        return AIMessage(content=str(reply), usage_metadata=usage)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])
