"""``dagbot serve`` without Slack settings (or with ``--playground``): the playground until Ctrl-C.

The terminal it runs in stays quiet: the log shows warnings and errors only (unless
DAGBOT_LOG_LEVEL says otherwise), and the playground says one line per event that matters:
a request, an approval asked for and decided, an answer, a failure or a cancel, a mail the
demo's sink got.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from agent.events import (
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    Planning,
    RunCancelled,
    RunEvent,
    RunFailed,
)
from bot.server import stop_on_signals
from infra.local_model.use import local_model_note
from infra.playground.app import Playground, open_playground
from infra.playground.demo import NOTE, Mail
from infra.settings import Settings

REQUEST_CHARS = 40


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
        narrator = Narrator(playground, announce)
        if playground.demo is not None:
            playground.demo.mail.watchers.append(narrator.mail)
        queue = playground.services.events.open()
        telling = asyncio.create_task(narrator.tell(queue))
        try:
            await stop.wait()
        finally:
            telling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await telling
            playground.services.events.close(queue)


class Narrator:
    """One line for each event of the playground that a person at its terminal wants to see."""

    def __init__(self, playground: Playground, announce: Callable[[str], None],
                 clock: Callable[[], float] = time.time) -> None:
        self.playground = playground
        self.announce = announce
        self.clock = clock
        self.requests: dict[str, str] = {}
        """run id → its request, clipped: what each later line of the run is about."""
        self.cancelled: set[str] = set()

    async def tell(self, events: asyncio.Queue[RunEvent]) -> None:
        while True:
            line = self.line(await events.get())
            if line:
                self.say(line)

    def say(self, text: str) -> None:
        self.announce(f"{time.strftime('%H:%M:%S', time.localtime(self.clock()))}  {text}")

    def mail(self, mail: Mail) -> None:
        self.say(f"✉ the mail sink got a mail to {', '.join(mail.to)}: {mail.subject!r}")

    def name(self, user: str | None) -> str:
        return self.playground.slack.name_of(user) if user else "someone"

    def line(self, event: RunEvent) -> str | None:
        about = self.requests.get(event.run_id, "a request")
        match event:
            case Planning(request=request, replan=0):
                clipped = " ".join(request.split())
                if len(clipped) > REQUEST_CHARS:
                    clipped = clipped[:REQUEST_CHARS - 1].rstrip() + "…"
                self.requests[event.run_id] = f"“{clipped}”"
                return f"▶ asked: “{clipped}”"
            case AwaitingApproval(tool=tool, node_id=node_id):
                return f"? {about}: {tool} ({node_id}) waits for an approval"
            case DecisionRecorded(node_id=node_id, status=status, decided_by=who):
                return f"  {about}: {node_id} {status} by {self.name(who)}"
            case AnswerReady(duration_s=duration, nodes_run=nodes):
                self.requests.pop(event.run_id, None)
                return f"✔ {about}: answered in {duration:.1f} s ({nodes} node(s) run)"
            case RunFailed(error=error):
                self.requests.pop(event.run_id, None)
                if event.run_id in self.cancelled:  # (a cancel ends its run this way: said already)
                    self.cancelled.discard(event.run_id)
                    return None
                return f"✖ {about}: failed: {' '.join(error.split())[:200]}"
            case RunCancelled(by=who):
                self.cancelled.add(event.run_id)
                return f"■ {about}: cancelled by {self.name(who)}"
        return None
