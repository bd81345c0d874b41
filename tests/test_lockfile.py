"""requirements.lock pins what pyproject.toml asks for: every dependency (the dev extra's too) is
there, at a version its range admits, with hashes, so `make venv` installs the same libraries on
every machine. A range changed without `make lock` fails here, not on a fresh machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)")


def pinned() -> dict[str, tuple[str, int]]:
    """Each locked package's version and how many hashes it carries."""
    pins: dict[str, tuple[str, int]] = {}
    name = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line):
            name = canonicalize_name(match[1])
            pins[name] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_every_declared_dependency_is_pinned_within_its_range_with_hashes() -> None:
    pins = pinned()
    problems = []
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement.name}: not in requirements.lock")
            continue
        version, hashes = pins[name]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
        if hashes == 0:
            problems.append(f"{requirement.name}: pinned without a hash")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_the_lock_names_no_machine_specific_index() -> None:
    text = (ROOT / "requirements.lock").read_text()
    assert not re.search(r"^--(extra-)?index-url|^--find-links", text, re.MULTILINE)
    assert len(pinned()) > len(declared())  # what the dependencies need is pinned too
