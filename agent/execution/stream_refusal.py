"""A streamed model request that failed before its first piece (:class:`~agent.model.llm.StreamRefused`).

Only a failure that may be about streaming itself, a definite refusal, is asked again
without streaming: HTTP 400, 404 or 422, an error that says streaming is not supported, or a
server that answered without a stream. Once that request asked whole has succeeded, the
model is marked as one that does not stream (``ctx.state.stream_refused``: neither the
planner nor the joiner is streamed again until a restart).

Any other failure (429, 5xx, a timeout, a dropped or refused connection, a refused key, a
prompt too long for the model's context window) is not about streaming: the client has
already retried what it retries as its settings say (honouring ``Retry-After``), so asking
again whole would only double the retries and the wait. It takes the usual error path at
once, as :class:`~agent.model.llm.LLMUnavailable`, and the next request streams again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from agent.execution.context import EngineContext
from agent.model.context_window import exceeds_context
from agent.model.llm import LLMUnavailable, StreamRefused

log = structlog.get_logger(__name__)

T = TypeVar("T")

REFUSING_STATUS = frozenset({400, 404, 422})
"""HTTP statuses that say the server will not take this streamed request (as opposed to
overloaded, rate-limited or unreachable)."""
_UNSUPPORTED = re.compile(
    r"stream\w*\b.{0,40}\b(not supported|unsupported|not available|not allowed|disabled)"
    r"|(does not|doesn't|do not|don't|cannot|can't) support\b.{0,40}stream"
    r"|no generation chunks were returned",  # langchain-core: a reply with nothing streamed in it
    re.I | re.S)


def definite_refusal(refused: StreamRefused) -> bool:
    """Whether the failed stream says the model will not stream (see the module)."""
    if refused.not_streamed:  # the server answered, and not as a stream
        return True
    return refused.status in REFUSING_STATUS or bool(_UNSUPPORTED.search(refused.detail))


async def ask_whole(ctx: EngineContext, refused: StreamRefused, whole: Callable[[], Awaitable[T]],
                    what: str) -> T:
    """The reply asked again without streaming (``whole``) after a definite refusal, the model
    then marked as not streaming; any other failure raised as :class:`LLMUnavailable` without
    asking again (see the module). ``what``: the reply's name in the log."""
    if not definite_refusal(refused) or exceeds_context(refused):
        raise LLMUnavailable(str(refused), refused.detail, refused.status) from None
    reply = await whole()
    ctx.state.stream_refused = str(refused)
    log.warning(f"the model does not stream the {what}; asking without streaming from now on",
                reason=ctx.redactor(refused.detail))
    return reply
