"""When a schedule fires, as people say it (pure): ``every weekday at 09:00 <request>``.

The forms, each followed by the request:

- ``every day at 8:30``, ``every weekday at 09:00`` (Monday to Friday), ``every monday at 10:00``
  (any day's name, or its first three letters); a time zone may follow the time
  (``at 09:00 Europe/Paris``), else the schedule's times are UTC;
- ``every hour``, ``every 2 hours``, ``every 15 minutes`` (at least
  :data:`MIN_INTERVAL_MINUTES` apart), counted from the moment the schedule is made.

:func:`parse_schedule` gives the :data:`ScheduleSpec` and the request, or raises
:class:`ScheduleSpecError` whose message says what to write instead. A spec is kept as JSON
(:func:`spec_to_json`, :func:`spec_from_json`) and said back with :func:`describe`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = tuple(range(7))
WEEKDAYS = tuple(range(5))
MIN_INTERVAL_MINUTES = 5
"""Closer schedules would fill a channel with threads: a person may not make them (tests of the
scheduler itself use intervals of seconds, which only code can make)."""
MAX_INTERVAL_MINUTES = 7 * 24 * 60
DEFAULT_TZ = "UTC"
"""A schedule's time zone when its maker names none: dagbot does not ask Slack for a person's
zone (that needs the ``users:read`` scope), so the reply says the times are UTC."""
FORMS = ("`every day at 08:30 <request>`, `every weekday at 09:00 Europe/Paris <request>`, "
         "`every monday at 10:00 <request>`, `every hour <request>`, `every 15 minutes <request>`")


class ScheduleSpecError(ValueError):
    """The text is not a schedule dagbot understands: the message says what to write."""


@dataclass(frozen=True)
class Interval:
    """Every ``seconds``, counted from the schedule's making."""

    seconds: int


@dataclass(frozen=True)
class DailyAt:
    """At ``hour``:``minute`` in ``tz`` on each of ``days`` (0 is Monday)."""

    days: tuple[int, ...]
    hour: int
    minute: int
    tz: str = DEFAULT_TZ


ScheduleSpec = Interval | DailyAt

_EVERY = re.compile(r"^\s*every\b\s*", re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_NUMBER = re.compile(r"^\d+$")
_ZONE_LIKE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_+-]*/[A-Za-z0-9_+/-]+|UTC|GMT|Z)$")


def is_schedule_command(text: str) -> bool:
    """Whether a slash command's text asks for a schedule (it starts with ``every``)."""
    return bool(_EVERY.match(text))


def _day(word: str) -> tuple[int, ...] | None:
    word = word.lower().rstrip(",")
    if word in ("day", "days"):
        return EVERY_DAY
    if word in ("weekday", "weekdays"):
        return WEEKDAYS
    for number, name in enumerate(DAY_NAMES):
        if word in (name, name + "s", name[:3]):
            return (number,)
    return None


def _zone(word: str) -> str | None:
    """``word`` as a time zone name, if it looks like one (None: it is the request's first word)."""
    if not _ZONE_LIKE.match(word):
        return None
    name = "UTC" if word.upper() in ("UTC", "GMT", "Z") else word
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        matches = [zone for zone in available_timezones() if zone.lower() == name.lower()]
        if len(matches) == 1:
            return matches[0]
        raise ScheduleSpecError(f"I don't know the time zone `{word}`: name one of the tz database, "
                                "such as `Europe/Paris`, `America/New_York` or `UTC`.") from None
    return name


def _request(words: list[str], said: str) -> str:
    request = " ".join(words).strip()
    if not request:
        raise ScheduleSpecError(f"`{said}` what? Say the request after it, "
                                f"e.g. `{said} summarise the open incidents`.")
    return request


def parse_schedule(text: str) -> tuple[ScheduleSpec, str]:
    """``every …`` and a request: the spec and the request (raises :class:`ScheduleSpecError`)."""
    if not is_schedule_command(text):
        raise ScheduleSpecError(f"A schedule starts with `every`: {FORMS}.")
    words = _EVERY.sub("", text, count=1).split()
    if not words:
        raise ScheduleSpecError(f"Every what? Say when, then the request: {FORMS}.")
    first = words[0].lower()
    if _NUMBER.match(first) or first in ("hour", "minute", "hours", "minutes"):
        return _interval(words)
    days = _day(first)
    if days is None:
        raise ScheduleSpecError(f"I don't know `every {words[0]}`: say {FORMS}.")
    rest = words[1:]
    said = f"every {words[0]}"
    if len(rest) < 2 or rest[0].lower() != "at":
        raise ScheduleSpecError(f"`{said}` at what time? Say it as HH:MM, e.g. `{said} at 09:00 <request>`.")
    hour, minute = _time(rest[1])
    tz = _zone(rest[2]) if len(rest) > 2 else None
    said = f"{said} at {rest[1]}"
    return DailyAt(days, hour, minute, tz or DEFAULT_TZ), _request(rest[3:] if tz else rest[2:], said)


def _time(word: str) -> tuple[int, int]:
    found = _TIME.match(word)
    hour, minute = (int(found.group(1)), int(found.group(2))) if found else (-1, -1)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleSpecError(f"`at {word}`: say the time as HH:MM, from 00:00 to 23:59.")
    return hour, minute


def _interval(words: list[str]) -> tuple[ScheduleSpec, str]:
    count, rest = (int(words[0]), words[1:]) if _NUMBER.match(words[0]) else (1, words)
    unit = rest[0].lower() if rest else ""
    if unit not in ("minute", "minutes", "min", "mins", "hour", "hours"):
        raise ScheduleSpecError(f"`every {words[0]}` what? Say `every {count} minutes` "
                                f"or `every {count} hours`.")
    minutes = count * (60 if unit.startswith("hour") else 1)
    said = f"every {' '.join(words[: len(words) - len(rest) + 1])}"
    if minutes < MIN_INTERVAL_MINUTES:
        raise ScheduleSpecError(f"`{said}` is too often: a schedule fires at most every "
                                f"{MIN_INTERVAL_MINUTES} minutes.")
    if minutes > MAX_INTERVAL_MINUTES:
        raise ScheduleSpecError(f"`{said}` is too far apart: for more than a week between runs, say "
                                "a day and a time, e.g. `every monday at 09:00`.")
    if len(rest) > 1 and rest[1].lower() == "at":
        raise ScheduleSpecError(f"`{said}` has no time of day: say `every day at 09:00` for a daily run.")
    return Interval(minutes * 60), _request(rest[1:], said)


def describe(spec: ScheduleSpec) -> str:
    """The spec as the person would say it (``every weekday at 09:00 Europe/Paris``)."""
    if isinstance(spec, Interval):
        if spec.seconds % 3600 == 0:
            hours = spec.seconds // 3600
            return "every hour" if hours == 1 else f"every {hours} hours"
        if spec.seconds % 60 == 0:
            return f"every {spec.seconds // 60} minutes"
        return f"every {spec.seconds} seconds"
    days = ("day" if spec.days == EVERY_DAY else "weekday" if spec.days == WEEKDAYS
            else " and ".join(DAY_NAMES[d] for d in spec.days))
    return f"every {days} at {spec.hour:02d}:{spec.minute:02d} {spec.tz}"


def spec_to_json(spec: ScheduleSpec) -> str:
    if isinstance(spec, Interval):
        return json.dumps({"every_seconds": spec.seconds})
    return json.dumps({"days": list(spec.days), "at": f"{spec.hour:02d}:{spec.minute:02d}", "tz": spec.tz})


def spec_from_json(text: str) -> ScheduleSpec:
    data: dict[str, Any] = json.loads(text)
    if "every_seconds" in data:
        return Interval(int(data["every_seconds"]))
    hour, minute = (int(part) for part in str(data["at"]).split(":"))
    return DailyAt(tuple(int(d) for d in data["days"]), hour, minute, str(data["tz"]))
