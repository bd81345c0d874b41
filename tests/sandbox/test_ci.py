"""Under CI a sandbox backend that cannot run fails the test; locally it is skipped."""

from __future__ import annotations

import pytest

from agent.ports.sandbox import Sandbox
from sandbox.backends.unavailable import UnavailableSandbox
from tests.sandbox import conftest


def _broken() -> tuple[Sandbox, str | None]:
    return UnavailableSandbox(["test"]), "no engine answers"


def _working() -> tuple[Sandbox, str | None]:
    return UnavailableSandbox(["test"]), None


@pytest.mark.parametrize("value", ["true", "1", "yes", "github-actions"])
def test_a_backend_that_cannot_run_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    monkeypatch.setitem(conftest.BACKEND_FACTORIES, "docker", _broken)
    with pytest.raises(pytest.fail.Exception, match=r"sandbox backend docker cannot run here: "
                       r"no engine answers; run `make system`.*CI is set"):
        conftest.usable_backend("docker")


@pytest.mark.parametrize("value", [None, "", "false", "0", "False"])
def test_a_backend_that_cannot_run_is_skipped_with_the_reason_outside_ci(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    monkeypatch.setitem(conftest.BACKEND_FACTORIES, "bwrap", _broken)
    with pytest.raises(pytest.skip.Exception,
                       match=r"sandbox backend bwrap cannot run here: no engine answers"):
        conftest.usable_backend("bwrap")


def test_a_backend_that_runs_is_used_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setitem(conftest.BACKEND_FACTORIES, "bwrap-hostfs", _working)
    assert isinstance(conftest.usable_backend("bwrap-hostfs"), UnavailableSandbox)
