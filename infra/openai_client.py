"""The OpenAI-compatible client dagbot's model calls go through: LangChain's ``ChatOpenAI``,
sending which of dagbot's calls a request is (:func:`agent.model.llm.for_role`) as the HTTP
header :data:`ROLE_HEADER`. Servers ignore headers they do not know; a proxy's or a server's
logs show it, and the model servers that stand in for one (the benchmarks' and the tests',
:class:`infra.emulators.openai_wire.WireRequest`) answer by it instead of reading the prompt."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import RunnableConfig
from langchain_openai import ChatOpenAI

from agent.model.llm import role_in

ROLE_HEADER = "X-Dagbot-Call"


def _with_role(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    role = role_in(config)
    if role is None:
        return kwargs
    return {**kwargs, "extra_headers": {**(kwargs.get("extra_headers") or {}), ROLE_HEADER: role}}


class ChatOpenAIWithRole(ChatOpenAI):
    """``ChatOpenAI`` whose requests carry their call's role in :data:`ROLE_HEADER`. (Read
    from the request's config: langchain-core streams without handing the run to ``_astream``.)"""

    def invoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
               stop: list[str] | None = None, **kwargs: Any) -> AIMessage:
        return super().invoke(input, config, stop=stop, **_with_role(config, kwargs))

    async def ainvoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
                      stop: list[str] | None = None, **kwargs: Any) -> AIMessage:
        return await super().ainvoke(input, config, stop=stop, **_with_role(config, kwargs))

    def stream(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
               stop: list[str] | None = None, **kwargs: Any) -> Iterator[AIMessageChunk]:
        return super().stream(input, config, stop=stop, **_with_role(config, kwargs))

    async def astream(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
                      stop: list[str] | None = None, **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        async for chunk in super().astream(input, config, stop=stop, **_with_role(config, kwargs)):
            yield chunk
