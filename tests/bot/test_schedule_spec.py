"""The plain forms of ``/agent every …`` (bot.ground.schedule_spec): what each means, what is refused
and how the refusal says what to write instead."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ground.schedule_spec import (
    EVERY_DAY,
    WEEKDAYS,
    DailyAt,
    Interval,
    ScheduleSpec,
    ScheduleSpecError,
    describe,
    parse_schedule,
    spec_from_json,
    spec_to_json,
)


@pytest.mark.parametrize(("text", "spec", "request_text"), [
    ("every weekday at 09:00 summarise the open incidents", DailyAt(WEEKDAYS, 9, 0), "summarise the open incidents"),
    ("every day at 8:30 check the backups", DailyAt(EVERY_DAY, 8, 30), "check the backups"),
    ("every monday at 10:00 list last week's deploys", DailyAt((0,), 10, 0), "list last week's deploys"),
    ("Every Sunday at 23:59 rotate logs", DailyAt((6,), 23, 59), "rotate logs"),
    ("every fri at 17:00 weekly report", DailyAt((4,), 17, 0), "weekly report"),
    ("every weekday at 09:00 Europe/Paris stand-up notes", DailyAt(WEEKDAYS, 9, 0, "Europe/Paris"), "stand-up notes"),
    ("every day at 07:00 america/new_york ping", DailyAt(EVERY_DAY, 7, 0, "America/New_York"), "ping"),
    ("every day at 07:00 UTC ping", DailyAt(EVERY_DAY, 7, 0, "UTC"), "ping"),
    ("every hour check the queue", Interval(3600), "check the queue"),
    ("every 2 hours check the queue", Interval(7200), "check the queue"),
    ("every 15 minutes look at <#C0OPS> errors", Interval(900), "look at <#C0OPS> errors"),
    ("every 5 mins ping", Interval(300), "ping"),
])
def test_each_form_means_what_it_says(text: str, spec: ScheduleSpec, request_text: str) -> None:
    assert parse_schedule(text) == (spec, request_text)


@pytest.mark.parametrize(("text", "told"), [
    ("every 0 minutes ping", "is too often: a schedule fires at most every 5 minutes"),
    ("every 2 minutes ping", "is too often"),
    ("every 9000 hours ping", "too far apart"),
    ("every blursday at 10:00 ping", "I don't know `every blursday`"),
    ("every day at 09:00 Mars/Olympus_Mons ping", "I don't know the time zone `Mars/Olympus_Mons`"),
    ("every day at 25:00 ping", "`at 25:00`: say the time as HH:MM"),
    ("every day at noon ping", "`at noon`: say the time as HH:MM"),
    ("every day ping", "`every day` at what time?"),
    ("every weekday at 09:00", "`every weekday at 09:00` what? Say the request after it"),
    ("every hour", "`every hour` what?"),
    ("every 15 fortnights ping", "`every 15` what?"),
    ("every hour at 10:00 ping", "has no time of day"),
    ("every", "Every what?"),
])
def test_a_bad_spec_is_refused_with_what_to_write(text: str, told: str) -> None:
    with pytest.raises(ScheduleSpecError) as refused:
        parse_schedule(text)
    assert told in str(refused.value)


SPECS = st.one_of(
    st.builds(Interval, st.integers(5, 7 * 24 * 60).map(lambda minutes: minutes * 60)),
    st.builds(DailyAt, st.sampled_from([EVERY_DAY, WEEKDAYS, *[(d,) for d in range(7)]]), st.integers(0, 23),
              st.integers(0, 59), st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata", "America/Sao_Paulo"])))


@given(SPECS)
def test_a_spec_said_back_means_the_same_and_keeps_as_json(spec: ScheduleSpec) -> None:
    assert spec_from_json(spec_to_json(spec)) == spec
    assert parse_schedule(f"{describe(spec)} do it") == (spec, "do it")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
def test_any_text_after_every_parses_or_is_refused_in_words(text: str) -> None:
    try:
        spec, request = parse_schedule(f"every {text}")
    except ScheduleSpecError as refused:
        assert str(refused)
    else:
        assert request.strip() and isinstance(spec, (Interval, DailyAt))
