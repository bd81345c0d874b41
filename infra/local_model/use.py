"""When dagbot plans with the local model, and the settings that point it there.

``DAGBOT_LOCAL_MODEL`` is used when neither ``OPENAI_BASE_URL`` nor ``OPENAI_API_KEY`` is set.
:func:`open_local_model` starts its server once and hands back the settings for everything
after it: the OpenAI-compatible client pointed at the server, the model's name, and a prompt
budget that fits its context window.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import structlog
from pydantic import SecretStr

from infra.local_model.checks import check_model_file
from infra.local_model.pin import DEFAULT_MODEL_PATH, ModelPin
from infra.local_model.process import ServerOptions, serving_model
from infra.settings import Settings

log = structlog.get_logger(__name__)

LOCAL_PROMPT_CHARS = 20_000
"""DAGBOT_PROMPT_CHARS for the local model unless set: its 8,192-token window less the 1,024
tokens of a reply, at about three characters a token (a planner prompt measured 3.7 with the
default model's tokenizer; JSON results are denser)."""


def uses_local_model(settings: Settings) -> bool:
    """DAGBOT_LOCAL_MODEL is set and no other model is: its server is still to be started."""
    return (settings.local_model is not None and not settings.openai_base_url
            and not settings.openai_api_key.get_secret_value())


def local_model_note(settings: Settings) -> str:
    """What the playground says about the model: '' unless it is the local model."""
    if settings.local_model is None or not settings.openai_base_url:
        return ""
    return (f"local model: {settings.local_model.name}, served by llama.cpp on this machine; small models "
            "make mistakes")


@contextlib.asynccontextmanager
async def open_local_model(settings: Settings, *, options: ServerOptions | None = None,
                           pins: Mapping[Path, ModelPin] | None = None,
                           say: Callable[[str], None] | None = None) -> AsyncIterator[Settings]:
    """Start the local model's server if the settings ask for it, stop it on exit; yield the
    settings to use meanwhile. Without DAGBOT_LOCAL_MODEL, the settings as they are."""
    if settings.local_model is None:
        yield settings
        return
    if not uses_local_model(settings):
        log.warning("DAGBOT_LOCAL_MODEL is ignored: OPENAI_BASE_URL or OPENAI_API_KEY is set, and that model "
                    "plans", local_model=str(settings.local_model))
        yield settings.model_copy(update={"local_model": None})
        return
    path = settings.local_model
    pin = await asyncio.to_thread(check_model_file, path, pins)
    if options is None:  # (DAGBOT_REPLY_TOKENS=0: only the context window bounds a reply)
        options = ServerOptions(reply_tokens=settings.reply_tokens or ServerOptions.context_tokens)
        if settings.local_model_threads:
            options = dataclasses.replace(options, threads=settings.local_model_threads)
    async with serving_model(path, options, say=say) as server:
        update: dict[str, object] = {"openai_base_url": server.api_url,
                                     "openai_api_key": SecretStr(server.api_key)}
        if "model" not in settings.model_fields_set:
            update["model"] = served_name(path, pin)
        if "prompt_chars" not in settings.model_fields_set:
            update["prompt_chars"] = LOCAL_PROMPT_CHARS
        yield settings.model_copy(update=update)


@contextlib.asynccontextmanager
async def serving_local_model(model: str | Path = "", *, options: ServerOptions | None = None,
                              say: Callable[[str], None] | None = None) -> AsyncIterator[tuple[str, str]]:
    """The local model's server for a tool that builds its own client (``bench.quality``): its
    OpenAI-compatible base URL and the model's name. ``model``: the default file unless named.
    The server asks for no API key."""
    path = Path(model) if str(model) else DEFAULT_MODEL_PATH
    pin = await asyncio.to_thread(check_model_file, path)
    async with serving_model(path, options, say=say, with_key=False) as server:
        yield server.api_url, served_name(path, pin)


def served_name(path: Path, pin: ModelPin | None) -> str:
    return pin.served_name if pin else path.stem
