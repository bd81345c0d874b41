"""Keeping secrets out of the error text that leaves the engine.

An error's text may quote a secret: a library naming the header value it refused, a server
echoing the request's key. Two kinds of secret are known here: the secret arguments of the
call that failed (:meth:`agent.tools.registry.ToolSpec.secret_args`, every string inside them,
for each item of a fan-out), and what the engine was configured with (the model's API key,
credentials in its URL), which the wiring hands over as :attr:`EngineContext.redactor`.
:func:`scrub_error` replaces both with :data:`~agent.tools.masking.MASK` before the text is
stored, announced, audited or given to the joiner.

A secret is found as it is and in the forms messages quote it in: stripped of surrounding
whitespace, escaped as Python's ``repr`` or JSON would, URL-encoded, and each of its words
of :data:`WORD_CHARS` characters or more (a token quoted without its ``Bearer``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, quote_plus

from agent.tools.masking import MASK

if TYPE_CHECKING:
    from agent.tools.registry import ToolRegistry

WORD_CHARS = 8
"""A word of a secret this long or longer is a secret on its own."""
SHORT_CHARS = 4
"""A secret shorter than this is masked only where it stands alone (not inside other words
or numbers, so that a secret "1" leaves "HTTP 401" readable)."""


class Redactor:
    """Masks the given secret strings, and any passed with the text, wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = frozenset(s for s in secrets if s)
        self._own = _compiled(self.secrets)
        """The pattern of the secrets given here, made once (every log line is masked)."""

    def __call__(self, text: str, more: Iterable[str] = ()) -> str:
        extra = frozenset(more) - self.secrets
        pattern = _compiled(self.secrets | extra) if extra else self._own
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)


def _compiled(secrets: Iterable[str]) -> re.Pattern[str] | None:
    forms = {form for secret in secrets if secret for form in quoted_forms(secret)}
    if not forms:
        return None
    return re.compile("|".join(_pattern(form) for form in sorted(forms, key=len, reverse=True)))


def _pattern(form: str) -> str:
    if len(form) >= SHORT_CHARS:
        return re.escape(form)
    return rf"(?<![\w.-]){re.escape(form)}(?![\w.-])"


def quoted_forms(secret: str) -> set[str]:
    """``secret`` as messages may quote it (see the module docstring)."""
    pieces = {secret, secret.strip()}
    pieces.update(word for word in secret.split() if len(word) >= WORD_CHARS)
    forms: set[str] = set()
    for piece in filter(None, pieces):
        forms.update({piece, repr(piece)[1:-1], json.dumps(piece)[1:-1],
                      json.dumps(piece, ensure_ascii=False)[1:-1],
                      repr(piece.encode("utf-8", "backslashreplace"))[2:-1],
                      quote(piece, safe=""), quote_plus(piece)})
    return {form for form in forms if form.strip()}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def secret_values(registry: ToolRegistry, tool: str, calls: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every string (and number) inside the secret arguments of ``tool``'s ``calls``."""
    secret = registry.secret_args(tool)
    return {text for args in calls for name, value in args.items() if name in secret
            for text in _strings(value)}


class HoldsSecrets(Protocol):
    """What knows the secrets to scrub (the engine's context): the tools' secret arguments and
    the configured ones."""

    @property
    def registry(self) -> ToolRegistry: ...

    @property
    def redactor(self) -> Redactor: ...


def scrub_error(ctx: HoldsSecrets, text: str, tool: str | None = None,
                calls: Iterable[Mapping[str, Any]] = ()) -> str:
    """``text`` (an error's) without the engine's secrets nor those of ``tool``'s ``calls``
    (the arguments of each call it made or was to make)."""
    more = secret_values(ctx.registry, tool, calls) if tool is not None else set()
    return ctx.redactor(text, more)
