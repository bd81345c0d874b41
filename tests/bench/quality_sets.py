"""What the tests of bench.quality's sets share: a set's workspace laid out, a case's paths."""

from __future__ import annotations

import re
from pathlib import Path

from bench.quality import SETS
from bench.quality_cases import Case
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
