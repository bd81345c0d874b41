"""Slash commands: ``/agent <request>`` is recorded before Slack is answered, and run after.

Slack never resends a slash command, and wants its answer within 3 seconds. So the command is
recorded first, in one write (commands that come at once share a transaction), Slack is
answered, and only then is the root message quoting the request posted and the run started in
its thread (:meth:`bot.inbound.intake.Intake.start`), at the speed of Slack's API and not on the
answer's path. A command whose process died before its request was queued is found by the
recovery pass ``retake_seconds`` later and run by the process that takes it: its root message
is reused if it was recorded as posted, and so are its status message and its queued request
(the command's key is the request's). A process that is merely slow keeps its command taken,
and one taken over anyway leaves it to its new taker (:mod:`bot.inbound.take`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from bot.access.access import is_direct
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.intake import CANNOT_POST_HERE, AnswersIn, Intake
from bot.inbound.take import Take
from bot.store import SlashCommand, SlashCommandStore
from bot.views import wording as say
from bot.views.reply_view import root_message

log = structlog.get_logger(__name__)


class SlashCommands:
    def __init__(self, *, intake: Intake, store: SlashCommandStore, poster: SlackPoster, tasks: TaskSet,
                 answers_in: AnswersIn, retake_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.intake = intake
        self.store = store
        self.poster = poster
        self.tasks = tasks
        self.answers_in = answers_in
        self.retake_seconds = retake_seconds
        self.clock = clock

    async def take(self, command: SlashCommand, recorded: Callable[[], None]) -> None:
        """Record ``command``, say so (``recorded``: Slack may be answered), then run it."""
        direct = is_direct(command.channel, channel_name=command.channel_name)
        if not self.answers_in(command.channel, direct=direct):
            recorded()
            await self._tell(command, say.not_answering_here(direct=bool(direct)))
            return
        await self.store.record_command(command)
        recorded()
        await self.run(command)

    async def retake(self) -> int:
        """Run the commands whose process died before queueing them (taken once, machine-wide)."""
        now = self.clock()
        commands = await self.store.retake_commands(now, unfinished_for=self.retake_seconds)
        for command in commands:
            log.warning("running a slash command whose process died", request_key=command.key,
                        posted=command.root_ts is not None)
            self.tasks.spawn(self.run(command, retaken_at=now), name="retaken-command")
        return len(commands)

    async def run(self, command: SlashCommand, *, retaken_at: float | None = None) -> None:
        """Post the root message (unless it was), then start the run in its thread, keeping the
        command taken meanwhile (:mod:`bot.inbound.take`). ``retaken_at``: when this
        process took it over from one that seemed dead."""
        taken_at = retaken_at if retaken_at is not None else command.taken_at or command.received_at

        async def keep(taken_at: float, now: float) -> bool:
            return await self.store.keep_command(command.key, taken_at=taken_at, now=now)

        take = Take(keep, what="slash command", key=command.key, taken_at=taken_at, clock=self.clock)
        async with take.kept_alive(every=self.retake_seconds / 3):
            try:
                await self._run(command, take, retaken=retaken_at is not None)
            except Exception:
                log.exception("could not start a run", request_key=command.key)
                await self._tell(command, say.SOMETHING_BROKE)

    async def _run(self, command: SlashCommand, take: Take, *, retaken: bool) -> None:
        root_ts = command.root_ts
        if root_ts is None:
            root = root_message(command.user, command.text)
            posted = await self.poster.send(command.channel, root.text, root.blocks)
            if posted.ts is None:
                await self._tell(command, say.NOT_IN_CHANNEL if posted.error in CANNOT_POST_HERE
                                 else say.could_not_start(posted.error))
                await self.store.finish_command(command.key)
                return
            root_ts = posted.ts

            async def keep_posted(taken_at: float, now: float) -> bool:  # (renewing the take)
                return await self.store.command_posted(command.key, root_ts, taken_at=taken_at, now=now)

            if not await take.renew(keep_posted):  # its new taker posts (or posted) the root message
                await self.poster.delete(command.channel, root_ts)
                return
        thread = ThreadRef(command.team, command.channel, root_ts)
        if not await take.renew():
            return

        async def respond(text: str) -> None:
            await self._tell(command, text)

        # The thread is the bot's from its root message on: its owning is recorded while
        # the status message is posted and the request queued, not after.
        await asyncio.gather(
            self.intake.start(thread, command.text, command.user, fresh=True, respond=respond,
                              key=command.key, retaken_from=command.received_at if retaken else None,
                              still_ours=take.renew),
            self.store.own_thread(thread, command.user, self.clock()))
        if not take.lost:
            await self.store.finish_command(command.key)

    async def _tell(self, command: SlashCommand, text: str) -> None:
        """Privately, through the command's response_url (or an ephemeral message)."""
        if command.response_url and await self.poster.respond(command.response_url, text):
            return
        await self.poster.ephemeral(command.channel, command.user, text)
