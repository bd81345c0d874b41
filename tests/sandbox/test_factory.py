"""Choosing a backend: by name, or `auto`; never running code unsandboxed."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from agent.errors import ConfigurationError
from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.factory import make_sandbox
from tests.sandbox.conftest import backend_missing

NO_ENGINE = "unix:///nonexistent/docker.sock"


def test_an_unknown_backend_name_fails_loudly() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown sandbox backend 'podman'.*auto, docker"):
        make_sandbox("podman")


def test_backends_by_name() -> None:
    docker_problem, bwrap_problem = DockerSandbox().problem(), BwrapSandbox().probe()
    if docker_problem or bwrap_problem:
        backend_missing(f"a backend cannot run here: docker: {docker_problem}; bwrap: {bwrap_problem}")
    assert isinstance(make_sandbox("docker"), DockerSandbox)
    assert isinstance(make_sandbox("BWRAP"), BwrapSandbox)
    assert isinstance(make_sandbox("bwrap", rootfs=None), BwrapSandbox)


async def refused_without_running(
    chosen: Sandbox, tmp_path: Path, gateway: GreenToolGateway, limits: SandboxLimits,
) -> str:
    """Run a script that leaves a mark through a backend that cannot run: it is refused, the
    script never ran, and the message (returned) says why."""
    marker = tmp_path / "ran"
    outcome = await chosen.run(f"open({str(marker)!r}, 'w').write('x')", {}, gateway, limits)
    assert not outcome.ok
    assert not marker.exists()
    assert outcome.error_type == "SandboxUnavailable"
    return outcome.error or ""


async def test_a_named_docker_backend_without_an_engine_fails_with_the_fix(
    tmp_path: Path, gateway: GreenToolGateway, limits: SandboxLimits,
) -> None:
    client = docker.DockerClient(base_url=NO_ENGINE, version="1.41", timeout=2)
    chosen = make_sandbox("docker", docker_client=client)
    assert isinstance(chosen, UnavailableSandbox)
    message = await refused_without_running(chosen, tmp_path, gateway, limits)
    assert "the docker sandbox (SANDBOX_BACKEND=docker) cannot run here" in message
    assert "docker: no Docker engine answers" in message  # the problem...
    assert "To fix:" in message and "apt-get install docker.io" in message  # ...and the fix
    assert "bwrap:" not in message  # bubblewrap was not asked for, so not probed


async def test_a_named_docker_backend_without_its_image_fails_with_the_fix(
    gateway: GreenToolGateway, limits: SandboxLimits,
) -> None:
    problem = DockerSandbox().problem()
    if problem:
        backend_missing(f"no Docker engine with the sandbox image here: {problem}")
    chosen = make_sandbox("docker", image="dagbot-sandbox:does-not-exist")
    assert isinstance(chosen, UnavailableSandbox)
    outcome = await chosen.run("result = 1", {}, gateway, limits)
    message = outcome.error or ""
    assert "dagbot-sandbox:does-not-exist is missing" in message
    assert "make sandbox-image" in message


async def test_a_named_bwrap_backend_without_bubblewrap_fails_with_the_fix(
    tmp_path: Path, gateway: GreenToolGateway, limits: SandboxLimits,
) -> None:
    chosen = make_sandbox("bwrap", bwrap=str(tmp_path / "no-such-bwrap"))
    assert isinstance(chosen, UnavailableSandbox)
    outcome = await chosen.run("result = 1", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxUnavailable"
    message = outcome.error or ""
    assert "the bwrap sandbox (SANDBOX_BACKEND=bwrap) cannot run here" in message
    assert "bwrap: bubblewrap is not installed" in message
    assert "To fix:" in message and "apt-get install bubblewrap" in message
    assert "cannot start bubblewrap" not in message  # not the raw OSError of a run


async def test_a_named_bwrap_backend_that_cannot_start_a_sandbox_fails_with_the_fix(
    gateway: GreenToolGateway, limits: SandboxLimits,
) -> None:
    # a "bwrap" that exits 1 at once: installed, but no sandbox ever starts
    chosen = make_sandbox("bwrap", bwrap="/bin/false")
    assert isinstance(chosen, UnavailableSandbox)
    outcome = await chosen.run("result = 1", {}, gateway, limits)
    message = outcome.error or ""
    assert outcome.error_type == "SandboxUnavailable"
    assert "bwrap: bubblewrap cannot start a sandbox" in message
    assert "To fix:" in message and "apt-get install bubblewrap" in message


async def test_a_named_bwrap_backend_with_a_broken_rootfs_fails_with_the_fix(
    tmp_path: Path, gateway: GreenToolGateway, limits: SandboxLimits,
) -> None:
    if BwrapSandbox(rootfs=None).problem():
        backend_missing("bubblewrap is not installed here")
    rootfs = tmp_path / "rootfs"
    (rootfs / "usr" / "bin").mkdir(parents=True)
    (rootfs / "usr" / "bin" / "python3").write_text("not a python")  # found, but cannot run
    chosen = make_sandbox("bwrap", rootfs=rootfs)
    assert isinstance(chosen, UnavailableSandbox)
    outcome = await chosen.run("result = 1", {}, gateway, limits)
    message = outcome.error or ""
    assert "bwrap: bubblewrap cannot start a sandbox" in message
    assert "To fix:" in message and "apt-get install bubblewrap" in message


def test_auto_prefers_docker_when_an_engine_answers() -> None:
    problem = DockerSandbox().problem()
    if problem:
        backend_missing(f"no Docker engine with the sandbox image here: {problem}")
    assert isinstance(make_sandbox("auto"), DockerSandbox)


def test_auto_falls_back_to_bubblewrap_without_an_engine() -> None:
    if problem := BwrapSandbox().probe():
        backend_missing(f"bubblewrap cannot run here: {problem}")
    client = docker.DockerClient(base_url=NO_ENGINE, version="1.41", timeout=2)
    assert isinstance(make_sandbox("auto", docker_client=client), BwrapSandbox)


def test_auto_falls_back_to_bubblewrap_when_the_image_is_missing() -> None:
    if problem := BwrapSandbox().probe():
        backend_missing(f"bubblewrap cannot run here: {problem}")
    chosen = make_sandbox("auto", image="dagbot-sandbox:does-not-exist")
    assert isinstance(chosen, BwrapSandbox)


async def test_a_missing_image_is_reported_with_the_fix(
    gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    engine = DockerSandbox(image="dagbot-sandbox:does-not-exist")
    if (problem := engine.problem()) and "missing" not in problem:
        backend_missing(f"no Docker engine here: {problem}")
    outcome = await engine.run("result = 1", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxError"
    assert "dagbot-sandbox:does-not-exist is missing" in (outcome.error or "")
    assert "make sandbox-image" in (outcome.error or "")


async def test_with_no_backend_package_code_never_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gateway: GreenToolGateway,
    limits: SandboxLimits,
) -> None:
    monkeypatch.setattr("sandbox.backends.bwrap.shutil.which", lambda *_a, **_k: None)
    client = docker.DockerClient(base_url=NO_ENGINE, version="1.41", timeout=2)
    chosen = make_sandbox("auto", docker_client=client, rootfs=None)
    assert isinstance(chosen, UnavailableSandbox)
    message = await refused_without_running(chosen, tmp_path, gateway, limits)
    assert "no sandbox is available" in message
    assert "docker:" in message and "bwrap: bubblewrap is not installed" in message
    assert "apt-get install docker.io" in message and "apt-get install bubblewrap" in message
