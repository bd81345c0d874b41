"""The demo model: a chat model that knows only the example requests.

It stands in for the LLM when none is configured, in each of its three roles (each request
says which it is: :func:`agent.model.llm.for_role`), reading the same prompts a real model
reads:
- planner: the recorded plan of the example the request matches;
  for anything else an empty plan, so the joiner can say what the demo knows;
- joiner: a text answer written from the
  results in the prompt, so what it says is what the tools really returned (and what people
  really decided); it never calls ``replan``;
- reflexion: the recorded fix for the example package's first, buggy version.

Asked to stream, it writes text replies a word at a time, at about a hosted model's pace (so
the joiner's answer streams into its thread as with a real model); the plan comes whole, as
from a model that cannot stream (the planner then starts no node before the plan is in).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.model.llm import role_in
from infra.playground.demo.answers import (
    no_earlier_answer,
    parse_edits,
    parse_results,
    tool_missing,
    unknown_request,
    write_answer,
)
from infra.playground.demo.examples import (
    COUNT_ERRORS_FIXED,
    EXAMPLES,
    TRACKER_NOTE,
    Example,
    address_in,
    by_key,
    match_example,
    note_in,
)

_TITLES = ("This thread so far", "Request", "Plan", "Results", "Changes made",
           "The previous plan for this request ran", "Your previous plan was invalid",
           "Your previous plan was cut off")
"""The sections dagbot's prompts have (agent/model/prompting.py); anything else is content."""
_TITLE = "|".join(re.escape(t) for t in _TITLES)
_SECTION = re.compile(rf"^## ({_TITLE})\n(.*?)(?=^## (?:{_TITLE})\n|\Z)", re.S | re.M)
_MENTION = re.compile(r"<@[A-Z0-9]+>")
_ANSWER = re.compile(r"^Answer: (.*?)(?=^Results:|\Z)", re.S | re.M)
_REQUEST = re.compile(r"^Request: (.*)$", re.M)
_WORD = re.compile(r"\s*\S+\s*|\s+")
"""A word with the spaces around it: the pieces of a streamed text join up to the text."""




def sections(text: str) -> dict[str, str]:
    """The ``## Title`` sections of a prompt, by title."""
    return {m.group(1).strip(): m.group(2).strip() for m in _SECTION.finditer(text)}


def request_of(prompt: dict[str, str]) -> str:
    text = _MENTION.sub(" ", prompt.get("Request", ""))
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").strip()


def earlier_answer(prompt: dict[str, str]) -> str:
    """The newest answer in the thread's history (the planner's "This thread so far")."""
    found = _ANSWER.findall(prompt.get("This thread so far", ""))
    return found[-1].strip() if found else ""


def earlier_request(prompt: dict[str, str]) -> str:
    """The newest request in the thread's history."""
    found = _REQUEST.findall(prompt.get("This thread so far", ""))
    return found[-1].strip() if found else ""


WORDS_PER_SECOND = 25.0
"""How fast the demo model writes an answer by default: a hosted model's pace."""
PIECE_SECONDS = 0.04


def pieces_of(words_per_second: float) -> int:
    """The words in each streamed piece, one piece every :data:`PIECE_SECONDS`, for a pace."""
    return max(1, round(words_per_second * PIECE_SECONDS))


class DemoChatModel(BaseChatModel):
    site: str
    """The demo website's address, put into the recorded plans."""
    delay_seconds: float = 0.3
    """A moment of 'thinking', so the planning phase shows on the status message."""
    words_per_piece: int = 1
    piece_seconds: float = PIECE_SECONDS
    """A streamed text reply comes ``words_per_piece`` words at a time, one piece every
    ``piece_seconds`` (about 25 words a second, a hosted model's pace)."""
    tool_name: str | None = None

    @property
    def _llm_type(self) -> str:
        return "dagbot-demo"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None,
                   **kwargs: Any) -> Runnable[Any, AIMessage]:
        name = convert_to_openai_tool(tools[0])["function"]["name"] if tools else None
        return self.model_copy(update={"tool_name": name, "disable_streaming": name == "plan"})

    def reply(self, messages: list[BaseMessage], role: str | None) -> AIMessage:
        prompt_text = "\n\n".join(m.text for m in messages)
        if role == "planner":
            return self._call(self.plan(sections(messages[-1].text), prompt_text), prompt_text)
        if role == "joiner":
            return self._text(self.answer(sections(messages[-1].text)), prompt_text)
        return self._text(self.rewrite(prompt_text), prompt_text)

    def plan(self, prompt: dict[str, str], prompt_text: str = "") -> dict[str, Any]:
        example = match_example(request_of(prompt))
        if example is None:
            return {"thought": "The demo model only knows the example requests.", "nodes": []}
        missing = [t for t in example.mcp_tools if prompt_text and t not in prompt_text]
        if missing:  # (the incident tracker's, when DAGBOT_MCP_CONFIG names other servers)
            return {"thought": f"This deployment has no {', '.join(missing)}.", "nodes": []}
        if example.key == "tracker_note":
            incident, note = note_in(request_of(prompt)) or ("INC-142", TRACKER_NOTE)
            return example.plan_for(self.site, incident=incident, note=note.replace("${", "$ {"))
        if example.in_thread:
            earlier = earlier_answer(prompt)
            if not earlier:
                return {"thought": "There is no earlier answer in this thread to send.", "nodes": []}
            asked = request_of(prompt)
            return example.plan_for(self.site, earlier.replace("${", "$ {"), earlier_request(prompt),
                                    to=address_in(asked) or "oncall@example.com")
        return example.plan_for(self.site)

    def answer(self, prompt: dict[str, str]) -> str:
        example = match_example(request_of(prompt))
        results = parse_results(prompt.get("Results", ""))
        if example is None:
            return unknown_request()
        if not results and example.in_thread:
            return no_earlier_answer()
        if not results and example.mcp_tools:
            return tool_missing(example.mcp_tools)
        return write_answer(example, results, parse_edits(prompt.get("Changes made", "")))

    @staticmethod
    def rewrite(prompt_text: str) -> str:
        package: Example = by_key("package")
        if package.plan["nodes"][0]["package"]["goal"] in prompt_text:
            return f"The log has blank and wrapped lines; skip them.\n```python\n{COUNT_ERRORS_FIXED}```"
        return "The demo model can only repair the example package; connect a model to repair this one."

    # ------------------------------------------------------------ plumbing

    def _call(self, args: dict[str, Any], prompt_text: str) -> AIMessage:
        return AIMessage(content="", tool_calls=[{"name": self.tool_name or "tool", "args": args,
                                                  "id": "demo_call"}],
                         usage_metadata=_usage(prompt_text, json.dumps(args)))

    def _text(self, text: str, prompt_text: str) -> AIMessage:
        return AIMessage(content=text, usage_metadata=_usage(prompt_text, text))

    async def ainvoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
                      stop: list[str] | None = None, **kwargs: Any) -> AIMessage:
        return await super().ainvoke(input, config, stop=stop, **{"role": role_in(config), **kwargs})

    async def astream(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
                      stop: list[str] | None = None, **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        # the role reaches _agenerate and _astream as an argument (langchain-core streams
        # without handing them the run's config)
        async for chunk in super().astream(input, config, stop=stop, **{"role": role_in(config), **kwargs}):
            yield chunk

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages, kwargs.get("role")))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages, kwargs.get("role")))])

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        reply = self.reply(messages, kwargs.get("role"))
        if reply.tool_calls or not reply.text:  # a call comes whole
            calls = [tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                     for i, c in enumerate(reply.tool_calls)]
            yield ChatGenerationChunk(message=AIMessageChunk(
                content=reply.content, usage_metadata=reply.usage_metadata, tool_call_chunks=calls))
            return
        pieces = text_pieces(reply.text, self.words_per_piece)
        for i, piece in enumerate(pieces):
            if i and self.piece_seconds:
                await asyncio.sleep(self.piece_seconds)
            last = i == len(pieces) - 1  # the usage comes with the last piece, as OpenAI's does
            yield ChatGenerationChunk(message=AIMessageChunk(
                content=piece, usage_metadata=reply.usage_metadata if last else None))


def text_pieces(text: str, words: int) -> list[str]:
    """``text`` in pieces of ``words`` words (with their spaces and line breaks): they join up
    to the text."""
    found = _WORD.findall(text)
    return ["".join(found[i:i + words]) for i in range(0, len(found), max(1, words))]


def _usage(prompt_text: str, reply_text: str) -> Any:
    """Token counts as a real model would report them (about four characters a token)."""
    given, said = len(prompt_text) // 4, len(reply_text) // 4
    return {"input_tokens": given, "output_tokens": said, "total_tokens": given + said}


__all__ = ["EXAMPLES", "DemoChatModel"]
