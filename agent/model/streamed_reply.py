"""A streamed reply: its pieces kept as they come and merged once, at the end.

Merging each piece into the reply so far (``add_ai_message_chunks(reply, piece)``) makes
langchain-core parse all the tool-call arguments received so far again, every time: quadratic
CPU (17 s for a 22 kB plan), with the event loop blocked. Merged once, they are parsed once.

Servers differ in how they send tool calls, and the pieces are mended as they come:
- Tool-call deltas without an ``index`` (Gemini's OpenAI endpoint, mistral.rs, some proxies):
  langchain-core would keep each fragment as a call of its own. Such a fragment belongs to
  the call opened last (a new call id opens the next one).
- The tool's name repeated on every delta (some NIM and MiniMax servers): langchain-core
  concatenates the names (``replanreplanreplan``); :func:`offered_name` reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.messages.tool import ToolCallChunk


class StreamedReply:
    """The pieces of one streamed reply, mended (see the module docstring)."""

    def __init__(self) -> None:
        self._pieces: list[AIMessageChunk] = []
        self._whole: AIMessage | None = None
        self._index: int | None = None
        """The index of the tool call opened last."""
        self._ids: dict[int, str] = {}

    @property
    def began(self) -> bool:
        return bool(self._pieces) or self._whole is not None

    def add(self, piece: AIMessage) -> AIMessageChunk | None:
        """Keep ``piece``; returns it as kept (every tool-call fragment with its index), or
        None when it is a whole reply (a model that cannot stream)."""
        if not isinstance(piece, AIMessageChunk):
            self._pieces, self._whole = [], piece
            return None
        self._whole = None
        if piece.tool_call_chunks:
            mended = [self._indexed(chunk) for chunk in piece.tool_call_chunks]
            if mended != piece.tool_call_chunks:
                piece = piece.model_copy(update={"tool_call_chunks": mended})
        self._pieces.append(piece)
        return piece

    def merged(self) -> AIMessage | None:
        """The whole reply (None before any of it arrived)."""
        if self._whole is not None or not self._pieces:
            return self._whole
        first, *rest = self._pieces
        return add_ai_message_chunks(first, *rest) if rest else first

    def _indexed(self, chunk: ToolCallChunk) -> ToolCallChunk:
        index, call_id = chunk.get("index"), chunk.get("id")
        if index is None:
            opened = self._ids.get(self._index) if self._index is not None else None
            if self._index is None:
                index = 0
            elif call_id and opened and call_id != opened:  # a new call begins
                index = max(self._ids, default=self._index) + 1
            else:
                index = self._index
            chunk = ToolCallChunk(name=chunk.get("name"), args=chunk.get("args"), id=call_id,
                                  index=index, type="tool_call_chunk")
        self._index = index
        if call_id:
            self._ids.setdefault(index, call_id)
        return chunk


def offered_name(name: str, offered: Sequence[str]) -> str:
    """``name`` as the offered tool's name when it is that name repeated (langchain-core
    concatenates a name sent on every delta), else as it is."""
    for tool in offered:
        if tool and name and len(name) % len(tool) == 0 and name == tool * (len(name) // len(tool)):
            return tool
    return name
