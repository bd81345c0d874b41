"""A streamed model request that failed before its first piece (:class:`~agent.llm.StreamRefused`).

The planner and the joiner then ask again without streaming. Whether the model is marked as
one that does not stream (``ctx.planner_stream_refused``: neither is streamed again until a
restart) depends on why the stream failed: only a definite refusal counts, and only once the
same request asked whole has succeeded. A definite refusal is HTTP 400, 404 or 422, an error
that says streaming is not supported, or a server that answered without a stream. A
temporary error (503, 429, a dropped or refused connection) is not one: the request is asked
again whole, its errors take the usual path, and the next request streams again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from agent.context import EngineContext
from agent.llm import StreamRefused

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
    """The reply asked again without streaming (``whole``), after ``refused``; marks the model
    as not streaming when that was a definite refusal and this call succeeded. ``what``: the
    reply's name in the log."""
    reply = await whole()
    if definite_refusal(refused):
        ctx.planner_stream_refused = str(refused)
        log.warning(f"the model does not stream the {what}; asking without streaming from now on",
                    reason=ctx.redactor(refused.detail))
    else:
        log.info(f"streaming the {what} failed before it began; asked again without streaming",
                 reason=ctx.redactor(refused.detail))
    return reply
