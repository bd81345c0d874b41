"""A streamed model request that fails before its first piece is asked again whole only after
a definite refusal (HTTP 400/404/422, "streaming is not supported", a reply that is no stream);
once the request asked whole succeeded, dagbot stops asking that model to stream. A temporary
error (503, 429, a timeout, a refused connection), already retried by the client, is not asked
again: it takes the usual error path, and the next request streams again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agent.answer.facts import INTRO as FACTS_INTRO
from agent.events import AnswerReady, RunFailed
from agent.execution.stream_refusal import definite_refusal
from agent.model.llm import StreamRefused
from infra.emulators.openai_wire import WireRequest, forced_tool
from tests.agent.harness import MEMORY, finish
from tests.agent.test_planner_streaming import THREE, over_http
from tests.fakes.openai_server import FakeOpenAI, StreamMode

Pick = Callable[[WireRequest], bool]


def planner(request: WireRequest) -> bool:
    return request.role == "planner" and forced_tool(request.body) == "plan"


def joiner(request: WireRequest) -> bool:
    return request.is_joiner


class Failing(FakeOpenAI):
    """Answers with an HTTP error each request chosen by the next of ``failures`` (a request
    chooser, the status, the message), each used once and in order; the others as scripted."""

    def __init__(self, replies: list[Any], failures: list[tuple[Pick, int, str]],
                 stream: StreamMode = "pieces") -> None:
        super().__init__(replies, stream=stream)
        self.failures = list(failures)

    async def _complete(self, request: Request) -> Response:
        received = await WireRequest.read(request)
        if self.failures and self.failures[0][0](received):
            _, status, message = self.failures.pop(0)
            self.received.append(received)
            return JSONResponse({"error": {"message": message}}, status_code=status)
        return await super()._complete(request)


def streamed(fake: FakeOpenAI, pick: Pick) -> list[bool]:
    return [r.streamed for r in fake.received if pick(r)]


@pytest.mark.parametrize(("status", "message"), [(503, "overloaded, try again"), (429, "rate limited")])
async def test_a_busy_planner_stream_is_not_asked_again_whole(status: int, message: str) -> None:
    streamed_planner = lambda request: planner(request) and request.streamed  # noqa: E731
    with Failing([THREE, finish("two")], [(streamed_planner, status, message)]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("b1", "look things up")
            failed = await h.next_event(RunFailed)
            assert f"HTTP {status}" in failed.error and message not in failed.error
            await h.engine.ask("b2", "again")
            assert (await h.next_event(AnswerReady)).answer == "two"
            # the failed stream (the client's retries are its own), then the next request streamed
            assert streamed(fake, planner) == [True, True]
            assert streamed(fake, joiner) == [True]
            assert h.services.engine.ctx.state.stream_refused is None


async def test_a_busy_joiner_stream_is_not_asked_again_whole() -> None:
    streamed_joiner = lambda request: request.is_joiner and request.streamed  # noqa: E731
    with Failing([THREE, THREE, finish("two")], [(streamed_joiner, 503, "busy")]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("b3", "look things up")
            answer = (await h.next_event(AnswerReady)).answer
            assert answer.startswith(FACTS_INTRO)  # the joiner's fallback
            await h.engine.ask("b4", "again")
            assert (await h.next_event(AnswerReady)).answer == "two"
            assert streamed(fake, joiner) == [True, True]
            assert streamed(fake, planner) == [True, True]
            assert h.services.engine.ctx.state.stream_refused is None


async def test_a_refusal_counts_only_once_the_request_asked_whole_succeeds() -> None:
    streamed_joiner = lambda request: request.is_joiner and request.streamed  # noqa: E731
    whole_joiner = lambda request: request.is_joiner and not request.streamed  # noqa: E731
    # the joiner's stream is refused (400), and the same request asked whole fails too (503)
    failures = [(streamed_joiner, 400, "streaming is not supported"), (whole_joiner, 503, "busy")]
    with Failing([THREE, THREE, finish("two")], failures) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("b5", "look things up")
            answer = (await h.next_event(AnswerReady)).answer
            assert answer.startswith(FACTS_INTRO)  # the joiner's fallback
            assert h.services.engine.ctx.state.stream_refused is None
            await h.engine.ask("b6", "again")
            assert (await h.next_event(AnswerReady)).answer == "two"
            assert streamed(fake, joiner) == [True, False, True]


def refusal(cause: BaseException | None) -> StreamRefused:
    """The error agent.model.llm raises for ``cause`` (None: a server that answered without a stream)."""
    if cause is None:
        refused = StreamRefused("the stream ended before the reply began")
        refused.not_streamed = True
        return refused
    return StreamRefused.of(cause)


class StatusError(Exception):
    """Like the OpenAI client's APIStatusError: the HTTP status as ``status_code``."""

    def __init__(self, status: int, message: str = "error") -> None:
        super().__init__(message)
        self.status_code = status


def http_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://model/v1/chat/completions")
    return httpx.HTTPStatusError("error", request=request, response=httpx.Response(status, request=request))


@pytest.mark.parametrize(("cause", "definite"), [
    (StatusError(400), True), (StatusError(404), True), (StatusError(422), True), (http_error(400), True),
    (StatusError(500, "Streaming is not supported for this model"), True),
    (ValueError("No generation chunks were returned"), True),
    (None, True),
    (StatusError(503), False), (StatusError(429), False), (http_error(502), False),
    (ConnectionRefusedError("connection refused"), False), (TimeoutError(), False),
])
def test_what_counts_as_a_refusal_to_stream(cause: BaseException | None, definite: bool) -> None:
    assert definite_refusal(refusal(cause)) is definite
