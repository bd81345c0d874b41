"""A ``tools/call`` result as a dagbot tool's output.

The output is an object (:data:`RESULT_KEYS`):

- ``text``: the text blocks, and the text of embedded text resources (each after a
  ``[resource URI]`` line), joined by newlines;
- ``structured``: the server's ``structuredContent``, when it gives one;
- ``notes``: what is not shown, one line each: an image, audio, a binary resource, a link to
  a resource, a part cut or left out for size. Nothing is dropped silently;
- ``truncated``: true when something was cut or left out for size.

The whole is capped at the server's ``max_result_bytes`` (UTF-8 JSON): structured content over
the cap is left out (its text form is usually in ``text`` too), then the text is cut. A result
the server marks ``isError`` is the tool's error (:class:`McpToolFailed`), its text the reason.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mcp import types

from agent.errors import ToolError

RESULT_KEYS = frozenset({"text", "structured", "notes", "truncated"})
ERROR_CHARS = 2_000
"""Characters of an ``isError`` result's text kept in the error."""
_NOTES = 20
_NOTE_CHARS = 300


class McpToolFailed(ToolError):
    """The server ran the tool and says it failed (``isError``)."""


def tool_output(result: types.CallToolResult, max_bytes: int) -> dict[str, Any]:
    """``result`` as the tool's output (see the module). Raises :class:`McpToolFailed`."""
    texts, notes = _read(result.content)
    text = "\n".join(texts)
    if result.isError:
        reason = text.strip() or "no reason given"
        if len(reason) > ERROR_CHARS:
            reason = reason[:ERROR_CHARS] + f"… [{len(reason):,} characters]"
        raise McpToolFailed(reason)
    output: dict[str, Any] = {"text": text}
    truncated = False
    if result.structuredContent is not None:
        size = _size(result.structuredContent)
        if size <= max_bytes // 2 or size + _size(text) <= max_bytes:
            output["structured"] = result.structuredContent
        else:
            truncated = True
            notes.append(f"structured content of {size:,} bytes left out: over the {max_bytes:,}-byte cap")
    room = max_bytes - _size({k: v for k, v in output.items() if k != "text"}) - 200
    encoded = text.encode("utf-8")
    if len(encoded) > room:
        kept = encoded[:max(room, 0)].decode("utf-8", errors="ignore")
        output["text"] = kept
        truncated = True
        notes.append(f"text cut at {len(kept.encode('utf-8')):,} of {len(encoded):,} bytes "
                     f"(the {max_bytes:,}-byte cap)")
    if len(notes) > _NOTES:
        notes = [*notes[:_NOTES], f"… and {len(notes) - _NOTES} more parts not shown"]
    if notes:
        output["notes"] = [n if len(n) <= _NOTE_CHARS else n[:_NOTE_CHARS] + "…" for n in notes]
    if truncated:
        output["truncated"] = True
    return output


def _read(content: list[types.ContentBlock]) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    notes: list[str] = []
    for block in content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            kind = "an image" if isinstance(block, types.ImageContent) else "audio"
            notes.append(f"{kind} ({block.mimeType}, {_decoded_size(block.data):,} bytes): not shown")
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, types.TextResourceContents):
                texts.append(f"[resource {resource.uri}]\n{resource.text}")
            else:
                notes.append(f"a binary resource {resource.uri} ({resource.mimeType or 'no type'}, "
                             f"{_decoded_size(resource.blob):,} bytes): not shown")
        elif isinstance(block, types.ResourceLink):
            notes.append(f"a link to resource {block.uri} ({block.name}): not read")
        else:
            notes.append(f"a '{getattr(block, 'type', type(block).__name__)}' block: not shown")
    return texts, notes


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except ValueError:
        return len(data)
