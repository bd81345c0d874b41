"""👍/👎 on answers: a vote per person and answer, stored with the run and the audit trail.

Only a click on the message that ends a run's answer counts (the store says which message
that is), so a forged or copied button records nothing; a second click by the same person
replaces their vote.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from bot.ground.poster import SlackPoster
from bot.store import AnswerLog, Vote
from bot.views import wording as say

log = structlog.get_logger(__name__)


def parse_vote(value: str) -> tuple[Vote, str] | None:
    """``up:<run id>`` / ``down:<run id>`` → the vote and the run; None for anything else."""
    vote, _, run_id = value.partition(":")
    if vote not in (Vote.UP.value, Vote.DOWN.value) or not run_id or len(run_id) > 32:
        return None
    return Vote(vote), run_id


class FeedbackDesk:
    def __init__(self, *, store: AnswerLog, poster: SlackPoster,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.poster = poster
        self.clock = clock

    async def record(self, user: str, value: str, channel: str, message_ts: str | None,
                     thread_ts: str | None) -> Vote | None:
        """A feedback button was clicked on message ``message_ts``: the vote recorded, or None."""
        parsed = parse_vote(value)
        answer = await self.store.answer_message(parsed[1]) if parsed else None
        if parsed is None or answer is None or (answer.channel, answer.ts) != (channel, message_ts):
            log.warning("feedback on something that is not an answer ignored", channel=channel, ts=message_ts)
            await self.poster.ephemeral(channel, user, say.FEEDBACK_NOT_AN_ANSWER, thread_ts)
            return None
        vote = parsed[0]
        recorded = await self.store.record_feedback(answer, user, vote, self.clock())
        log.info("answer feedback", run_id=answer.run_id, vote=vote.value,
                 replaced=recorded.previous.value if recorded.previous else None)
        await self.poster.ephemeral(channel, user, say.FEEDBACK_THANKS[vote.value], thread_ts)
        return vote
