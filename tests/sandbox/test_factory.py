"""Choosing a backend: by name, or `auto`; never running code unsandboxed."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from agent.errors import ConfigurationError
from agent.gateway import GreenToolGateway
from agent.ports import SandboxLimits
from sandbox import make_sandbox
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox
from sandbox.backends.unavailable import UnavailableSandbox

NO_ENGINE = "unix:///nonexistent/docker.sock"


def test_an_unknown_backend_name_fails_loudly() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown sandbox backend 'podman'.*auto, docker"):
        make_sandbox("podman")


def test_backends_by_name() -> None:
    assert isinstance(make_sandbox("docker"), DockerSandbox)
    assert isinstance(make_sandbox("BWRAP"), BwrapSandbox)
    assert make_sandbox("docker", image="dagbot-sandbox:test").image == "dagbot-sandbox:test"


def test_auto_prefers_docker_when_an_engine_answers() -> None:
    problem = DockerSandbox().problem()
    if problem:
        pytest.skip(f"no Docker engine with the sandbox image here: {problem}")
    assert isinstance(make_sandbox("auto"), DockerSandbox)


def test_auto_falls_back_to_bubblewrap_without_an_engine() -> None:
    if BwrapSandbox().probe():
        pytest.skip("bubblewrap cannot run here")
    client = docker.DockerClient(base_url=NO_ENGINE, version="1.41", timeout=2)
    assert isinstance(make_sandbox("auto", docker_client=client), BwrapSandbox)


def test_auto_falls_back_to_bubblewrap_when_the_image_is_missing() -> None:
    if BwrapSandbox().probe():
        pytest.skip("bubblewrap cannot run here")
    chosen = make_sandbox("auto", image="dagbot-sandbox:does-not-exist")
    assert isinstance(chosen, BwrapSandbox)


async def test_a_missing_image_is_reported_with_the_fix(
    gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    engine = DockerSandbox(image="dagbot-sandbox:does-not-exist")
    if engine.problem() and "missing" not in (engine.problem() or ""):
        pytest.skip("no Docker engine here")
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
    marker = tmp_path / "ran"
    outcome = await chosen.run(f"open({str(marker)!r}, 'w').write('x')", {}, gateway, limits)
    assert not outcome.ok
    assert not marker.exists()
    assert outcome.error_type == "SandboxUnavailable"
    message = outcome.error or ""
    assert "no sandbox is available" in message
    assert "docker:" in message and "bwrap: bubblewrap is not installed" in message
    assert "apt-get install docker.io" in message and "apt-get install bubblewrap" in message
