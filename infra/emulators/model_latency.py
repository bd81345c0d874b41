"""How long a model takes to answer, for the model server (:mod:`infra.emulators.model_server`)
when a benchmark times systems against it (``bench.e2e``).

A request waits ``ttft_s + prompt_tokens × prompt_s_per_token`` before its first token (less
the tokens of the longest prefix it shares with a prompt served before: OpenAI, vLLM and
llama.cpp all reuse a prompt prefix they have seen), then its reply comes at ``tokens_per_s``.

Tokens are counted with one rule for every system, since tiktoken's encodings cannot be
downloaded here: a text of n characters is ceil(n / 4) tokens. A prompt is 4 tokens per
message plus its content and tool calls (as JSON), plus the JSON of the tools offered; a
reply is its text plus each call's name and arguments.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from infra.emulators.openai_wire import ModelReply

CHARS_PER_TOKEN = 4
"""The token rule (see the module docstring)."""


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(body: dict[str, Any]) -> int:
    total = tokens(json.dumps(body.get("tools") or [], ensure_ascii=False)) if body.get("tools") else 0
    for message in body.get("messages", []):
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content or "", ensure_ascii=False)
        total += 4 + tokens(text)
        if message.get("tool_calls"):
            total += tokens(json.dumps(message["tool_calls"], ensure_ascii=False))
    return total


def reply_tokens(reply: ModelReply) -> int:
    return tokens(reply.text) + sum(tokens(c.name) + tokens(c.arguments) for c in reply.calls)


def prompt_text(body: dict[str, Any]) -> str:
    """The prompt as one text, in the order a server reads it (tools, then each message): two
    prompts share the tokens of their common prefix."""
    parts = [json.dumps(body.get("tools") or [], ensure_ascii=False)]
    for message in body.get("messages", []):
        content = message.get("content")
        parts.append(f"<{message.get('role')}>")
        parts.append(content if isinstance(content, str) else json.dumps(content or "", ensure_ascii=False))
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"], ensure_ascii=False))
    return "".join(parts)


class PrefixCache:
    """The prompts served so far, by label (the request they belong to); a new prompt's cached
    tokens are those of the longest prefix it shares with one of them (whole tokens: characters
    / 4, rounded down). :meth:`forget` a label before asking its request again, so that a repeat
    reuses only what other requests share with it (the system prompt, the tools), as a new
    request would."""

    def __init__(self) -> None:
        self._seen: list[tuple[str, str]] = []

    def cached_tokens(self, text: str, label: str) -> int:
        longest = max((_shared(text, seen) for _, seen in self._seen), default=0)
        self._seen.append((label, text))
        return longest // CHARS_PER_TOKEN

    def forget(self, label: str) -> None:
        self._seen = [(other, text) for other, text in self._seen if other != label]


def _shared(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b`` (a binary search over slices
    compared in C: fast on prompts of thousands of characters)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class LatencyModel:
    ttft_s: float = 0.5
    """Time to first token, before prompt processing."""
    tokens_per_s: float = 60.0
    prompt_s_per_token: float = 0.0002
    """Prompt processing (prefill) per prompt token not cached: 5,000 tokens/s."""
    prefix_caching: bool = True
    """A prompt's prefix served before is not processed again."""

    def first_token_s(self, prompt: int, cached: int = 0) -> float:
        return self.ttft_s + max(0, prompt - cached) * self.prompt_s_per_token
