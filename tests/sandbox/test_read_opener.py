"""A file a step read, opened in a package by the path the read returned, reads the text the
read returned (sandbox/runner.py ``read_opener``): the sandbox has no workspace on its disk, and
a small model writes ``open(path)`` in a helper it calls with ``inputs['logs']['path']``
(bench.quality monday rejected-nginx-csv failed every attempt with FileNotFoundError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.runner import read_opener

LOG = "05:02 [warn] buffered\n06:40 [error] upstream timed out\n"
INPUTS = {"logs": {"path": "logs/nginx-error.log", "content": LOG, "size": len(LOG)},
          "pages": [{"path": "./a/pages.csv", "content": "id\n1\n"}, {"path": "b/other.txt", "content": "x"}]}

HELPER = """
def read_lines(path):
    with open(path, 'r') as handle:
        return handle.readlines()

lines = read_lines(inputs['logs']['path'])
result = {'lines': len(lines), 'errors': [l.split()[0] for l in lines if '[error]' in l]}
"""


def test_a_path_a_read_returned_opens_its_text() -> None:
    opened = read_opener(INPUTS)
    with opened("logs/nginx-error.log") as handle:
        assert handle.read() == LOG
    assert opened("./logs/nginx-error.log", "rt").readlines() == LOG.splitlines(True)
    # a fan-out's reads, by path or by the file's name alone when one read has it
    assert opened("a/pages.csv").read() == "id\n1\n"
    assert opened("pages.csv").read() == "id\n1\n"


def test_other_paths_and_modes_are_pythons_own_open(tmp_path: Path) -> None:
    opened = read_opener(INPUTS)
    with pytest.raises(FileNotFoundError):
        opened("logs/access.log")  # no read returned it
    with pytest.raises(FileNotFoundError):
        opened("logs/nginx-error.log", "rb")  # bytes: not the read's text
    written = tmp_path / "out.txt"
    with opened(written, "w") as handle:  # writes go to the disk
        handle.write("kept")
    assert opened(written).read() == "kept"
    there = tmp_path / "pages.csv"
    there.write_text("on disk")
    assert opened(str(there)).read() == "on disk"  # a file that is there is that file


async def test_a_helper_that_opens_the_reads_path_runs_in_the_sandbox(
        sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits) -> None:
    outcome = await sandbox.run(HELPER, INPUTS, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result == {"lines": 2, "errors": ["06:40"]}
    missing = await sandbox.run("result = open('logs/access.log').read()", INPUTS, gateway, limits)
    assert not missing.ok and missing.error_type == "FileNotFoundError"
