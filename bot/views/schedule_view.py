"""What the bot says about schedules (pure): the confirmation, a tick's root message, the list
with Cancel buttons (``/agent schedules`` and App Home), and the refusals."""

from __future__ import annotations

from bot.ground.action_ids import CANCEL_SCHEDULE_ACTION
from bot.ground.blocks import SECTION_TEXT_LIMIT, Block, actions, button, clip, context, notification, section
from bot.ground.mrkdwn import plain_special_mentions, quiet
from bot.ground.schedule_book import Schedule
from bot.ground.schedule_spec import DEFAULT_TZ, DailyAt, describe
from bot.views import wording as say
from bot.views.reply_view import Reply

MAX_LISTED = 20
"""Schedules listed with their buttons (a message holds 50 blocks; each takes two)."""
HOME_TITLE = "*Your schedules*"
NO_SCHEDULES = "No schedules. Make one with `/agent every weekday at 09:00 <request>`."
CANCEL_NOT_ALLOWED = ("Sorry, only the person who made this schedule (or an approver for every tool) "
                      "can cancel it.")
ALREADY_CANCELLED = "This schedule was already cancelled; nothing more will run from it."
NOT_IN_CHANNEL = ("I can't post in this conversation, so a schedule here could never run. Invite me with "
                  "`/invite @dagbot` and make it again.")


def _request(request: str) -> str:
    return quiet(plain_special_mentions(clip(request, SECTION_TEXT_LIMIT - 300)))


def _when(schedule: Schedule) -> str:
    return describe(schedule.spec)


def created(schedule: Schedule, next_fire: float | None) -> str:
    """The reply to ``/agent every …``: what was made, and when it first runs."""
    first = f" Next run: {say.slack_date(next_fire)}." if next_fire is not None else ""
    zone = ""
    if isinstance(schedule.spec, DailyAt) and schedule.spec.tz == DEFAULT_TZ:
        zone = " Times are UTC: name a zone after the time for another (`at 09:00 Europe/Paris`)."
    return (f"Scheduled {_when(schedule)} in this channel, as you: {_request(schedule.request)}."
            f"{first}{zone} `/agent schedules` lists your schedules, with Cancel.")


def tick_root(schedule: Schedule, missed: int) -> Reply:
    """The channel message a tick's run lives under; it says so when it stands for missed ticks."""
    text = f"Scheduled by {say.user(schedule.user)} ({_when(schedule)}):\n" + "\n".join(
        f"> {line}" for line in _request(schedule.request).splitlines() or [""])
    blocks = [section(text)]
    if missed:
        note = missed_note(missed)
        text += f"\n{note}"
        blocks.append(context(note))
    return Reply(notification(text), blocks)


def missed_note(missed: int) -> str:
    runs = "1 run was" if missed == 1 else f"{missed} runs were"
    return f":hourglass: {runs} missed while dagbot was down; this is one for all of them."


def cancelled(schedule: Schedule) -> str:
    return (f"Cancelled the schedule {_when(schedule)}: {_request(schedule.request)}. "
            "Nothing more will run from it.")


def schedule_lines(schedules: list[Schedule], next_fires: dict[str, float | None], *,
                   cancellable: set[str]) -> list[Block]:
    """One section per schedule (where, who, when, the request, its next run), with Cancel where
    the viewer may cancel it."""
    blocks: list[Block] = []
    for schedule in schedules[:MAX_LISTED]:
        upcoming = next_fires.get(schedule.id)
        when = f"next {say.slack_date(upcoming)}" if upcoming is not None else "no next run"
        line = (f"*{_when(schedule)}* in <#{schedule.channel}>, by {say.user(schedule.user)} ({when})\n"
                f"> {_request(schedule.request)}")
        blocks.append(section(line, block_id=f"schedule:{schedule.id}"))
        if schedule.id in cancellable:
            blocks.append(actions(button("Cancel", CANCEL_SCHEDULE_ACTION, schedule.id, style="danger"),
                                  block_id=f"schedule_actions:{schedule.id}"))
    if len(schedules) > MAX_LISTED:
        blocks.append(context(f"…and {len(schedules) - MAX_LISTED} more."))
    return blocks


def schedule_list(schedules: list[Schedule], next_fires: dict[str, float | None], *,
                  cancellable: set[str]) -> Reply:
    """``/agent schedules``: the person's schedules and this channel's."""
    if not schedules:
        return Reply(NO_SCHEDULES, [section(NO_SCHEDULES)])
    head = "Schedules (yours, and this channel's):"
    return Reply(head, [section(head), *schedule_lines(schedules, next_fires, cancellable=cancellable)])


def home_schedules(schedules: list[Schedule], next_fires: dict[str, float | None]) -> list[Block]:
    """App Home's section: the person's own schedules, each with Cancel."""
    lines = schedule_lines(schedules, next_fires, cancellable={s.id for s in schedules})
    return [section(HOME_TITLE), *(lines or [section(NO_SCHEDULES)])]
