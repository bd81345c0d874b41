"""``dagbot serve`` without Slack settings (or with ``--playground``): the playground until Ctrl-C."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.server import stop_on_signals
from infra.local_model.use import local_model_note
from infra.playground.app import open_playground
from infra.playground.demo import NOTE
from infra.settings import Settings


async def run_playground(settings: Settings, *, host: str, port: int, announce: Callable[[str], None],
                         stop: asyncio.Event | None = None) -> None:
    stop = stop or stop_on_signals()
    async with open_playground(settings, host=host, port=port) as playground:
        shown = playground.url.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - what a browser can open
        lines = [f"dagbot playground: open {shown}/", "  a stand-in for Slack with the real bot behind it; "
                 "Ctrl-C stops it."]
        used = playground.services.settings  # the local model's, once it is started
        local = local_model_note(used)
        lines.append(f"  {NOTE}." if playground.demo
                     else f"  model: {used.model}" + (f" ({local})" if local else ""))
        lines.append(f"  package nodes run in the {playground.sandbox_name} sandbox.")
        announce("\n".join(lines))
        await stop.wait()
