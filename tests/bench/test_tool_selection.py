"""bench.tool_selection --quick runs (in-process, no model) and prints its figures as one JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import tool_selection
from bench.tool_selection_requests import HOLDOUT, TUNING

KEYS = {"bench", "set", "quick", "requests", "tools", "needed_tool_shown_rate", "needed_tools_shown_share",
        "shown_avg", "tools_chars_avg", "all_tools_chars", "prompt_chars"}


def test_quick_prints_one_json_line_of_figures(capsys: pytest.CaptureFixture[str]) -> None:
    returned = tool_selection.main(["--quick"])
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures == returned and set(figures) == KEYS
    assert (figures["set"], figures["quick"], figures["requests"]) == ("tuning", True, tool_selection.QUICK)
    assert figures["tools"] >= 40  # a few dozen: four MCP servers' and the built-ins
    rate = figures["needed_tool_shown_rate"]
    assert isinstance(rate, float) and 0.0 <= rate <= 1.0
    # Sanity floor, not a target: 12 of 56 tools drawn at random would show a request's one
    # needed tool about one time in five; a scorer that works shows it far more often.
    assert rate >= 0.5
    assert 0 < figures["shown_avg"] < figures["tools"]
    assert 0 < figures["tools_chars_avg"] < figures["all_tools_chars"]


def test_the_sets_are_apart_and_each_needed_tool_is_in_the_catalogue(tmp_path: Path) -> None:
    assert len(TUNING) >= 40 and len(HOLDOUT) >= 20
    assert not {r.text for r in TUNING} & {r.text for r in HOLDOUT}
    names = set(tool_selection.catalogue(tmp_path).names())
    needed = {option for r in TUNING + HOLDOUT for need in r.needs + r.earlier for option in need.split("|")}
    assert needed <= names, needed - names
