"""What the tests of bench.quality's sets share: a set's workspace laid out, a case's paths."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bench.quality import SETS
from bench.quality_cases import Case, Kind
from bench.quality_targets import Targets
from infra.playground.demo.targets import MailSink


def laid_out(tmp_path: Path, set_name: str) -> list[str]:
    """The files a set's workspace holds once laid out (and that laying it out changed nothing)."""
    targets = Targets(tmp_path / "workspace", tmp_path / "t.sqlite", "http://127.0.0.1:9", MailSink(),
                      SETS[set_name].files)
    targets.reset(tmp_path)
    assert targets.changed_files() == {}
    return sorted(p.relative_to(targets.workspace).as_posix() for p in targets.workspace.rglob("*") if p.is_file())


def named_paths(case: Case) -> set[str]:
    """The workspace paths a case's requests name."""
    return set(re.findall(r"(?<![\w/:.~])((?:[\w-]+/)+[\w.-]+\.[a-z]+)\b", " ".join(case.turns)))


def assert_well_formed(cases: Sequence[Case]) -> None:
    """Each case's kind agrees with its fields (an effect only for "no tool does it", no red
    tool where nothing may change, two turns only for a follow-up), and the quick subset has
    every kind."""
    for case in cases:
        assert (case.kind is Kind.NO_TOOL) == bool(case.effect), case.name
        assert not (case.kind in (Kind.NO_TOOL, Kind.MISSING, Kind.REFUSE, Kind.FAILED_STEP) and case.red_tools)
        assert (len(case.turns) == 2) == (case.kind is Kind.FOLLOW_UP), case.name
    assert {c.kind for c in cases if c.quick} == {c.kind for c in cases}


def assert_its_own(set_name: str) -> None:
    """A set's case names, requests and files are none of any other set's, and it is well formed."""
    own = SETS[set_name]
    others = [case_set for name, case_set in SETS.items() if name != set_name]
    other_cases = [case for case_set in others for case in case_set.cases]
    assert not {c.name for c in own.cases} & {c.name for c in other_cases}
    assert not {t for c in own.cases for t in c.turns} & {t for c in other_cases for t in c.turns}
    assert not own.files.keys() & {path for case_set in others for path in case_set.files}
    assert_well_formed(own.cases)


def assert_paths_in_workspace(tmp_path: Path, set_name: str) -> None:
    """Every path a set's requests name is in its workspace (a report to write aside), unless
    the case is about a missing file, whose paths none is."""
    files = SETS[set_name].files
    assert laid_out(tmp_path, set_name) == sorted(files)
    for case in SETS[set_name].cases:
        named = named_paths(case)
        written = {p for p in named if p.startswith("reports/")}
        if case.kind is Kind.MISSING:
            assert not named & files.keys(), case.name
        else:
            assert named - written <= files.keys(), (case.name, named)


def expected_patterns(case: Case) -> list[str]:
    """What a case checks: its files' and mails' contents when it changes something, else its facts."""
    made = [*(c.contains for c in case.files if c.contains), *(m.contains for m in case.mail)]
    return made if case.red_tools else list(case.facts)


_FLAGS = re.I | re.S


def assert_answers_meet_checks(cases: Sequence[Case], answers: dict[str, str]) -> None:
    """Each answer written from values computed from a set's files meets its case's checks,
    and every case that computes or changes something has such an answer."""
    by_name = {case.name: case for case in cases}
    for name, text in answers.items():
        for pattern in expected_patterns(by_name[name]):
            assert re.search(pattern, text, _FLAGS), (name, pattern, text)
    numbered = {c.name for c in cases if c.kind is Kind.COMPUTE or c.red_tools}
    assert numbered <= answers.keys(), numbered - answers.keys()


def assert_wrong_answers_fail(cases: Sequence[Case], wrong: dict[str, str]) -> None:
    """Each wrong answer (a wrong value, a filter that let too much through) fails its case's checks."""
    by_name = {case.name: case for case in cases}
    for name, text in wrong.items():
        assert not all(re.search(p, text, _FLAGS) for p in expected_patterns(by_name[name])), name
