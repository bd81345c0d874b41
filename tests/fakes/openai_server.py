"""A local OpenAI-compatible chat completions server with scripted replies.

Exercises the real ``langchain-openai`` client: point ``OPENAI_BASE_URL`` at ``url``. This is
the wire-level fake (requests, streams, HTTP errors); for scripted replies in memory, with no
client and no server, use :class:`infra.emulators.scripted_chat.ScriptedChatModel`, which takes
the same string and dict replies.

It is the shared model server (:class:`infra.emulators.model_server.ModelServer`, where the
options are described) playing a :class:`~infra.emulators.model_server.Script`, with what the
tests were written against: 7 characters a streamed piece, the same usage for every reply
(:data:`~infra.emulators.model_server.USAGE`), and ``json_schema`` a yes or no: True, a dict
reply to a request held to a JSON schema is its text and the output probe is answered as
llama.cpp answers it; False, such requests are refused with HTTP 400.
"""

from __future__ import annotations

from typing import Any

from infra.emulators.model_server import USAGE, ModelServer, Script, StreamMode

__all__ = ["FakeOpenAI", "StreamMode"]


class FakeOpenAI(ModelServer):
    def __init__(self, replies: list[Any], *, stream: StreamMode = "pieces", piece: int = 7,
                 hold_at: str | None = None, break_at: str | None = None,
                 refuse_with: int | None = None, json_schema: bool = True) -> None:
        self.script = Script(replies)
        super().__init__(self.script, stream=stream, piece=piece, usage=USAGE,
                         json_schema="hold" if json_schema else "refuse",
                         hold_at=hold_at, break_at=break_at, refuse_with=refuse_with)

    @property
    def replies(self) -> list[Any]:
        """Replies still to give, in order."""
        return self.script.replies
