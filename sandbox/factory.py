"""Choosing a sandbox backend by name (``SANDBOX_BACKEND=auto|docker|bwrap``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker

from agent.errors import ConfigurationError
from agent.ports import Sandbox
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.image import DEFAULT_IMAGE, DEFAULT_ROOTFS


def _docker(image: str, rootfs: str | Path | None, client: docker.DockerClient | None) -> Sandbox:
    return DockerSandbox(image=image, client=client)


def _bwrap(image: str, rootfs: str | Path | None, client: docker.DockerClient | None) -> Sandbox:
    return BwrapSandbox(rootfs=rootfs)


def _auto(image: str, rootfs: str | Path | None, client: docker.DockerClient | None) -> Sandbox:
    """Docker when an engine answers and has the image; else bubblewrap when it can start a
    sandbox; else a backend whose runs fail and say how to install one."""
    reasons = []
    engine = DockerSandbox(image=image, client=client)
    problem = engine.problem()
    if problem is None:
        return engine
    reasons.append(f"docker: {problem}")
    bwrap = BwrapSandbox(rootfs=rootfs)
    problem = bwrap.probe()
    if problem is None:
        return bwrap
    reasons.append(f"bwrap: {problem}")
    return UnavailableSandbox(reasons)


BACKENDS: dict[str, Callable[[str, str | Path | None, docker.DockerClient | None], Sandbox]] = {
    "auto": _auto,
    "docker": _docker,
    "bwrap": _bwrap,
}


def make_sandbox(
    name: str = "auto", *, image: str = DEFAULT_IMAGE, rootfs: str | Path | None = DEFAULT_ROOTFS,
    docker_client: docker.DockerClient | None = None,
) -> Sandbox:
    """The sandbox backend called ``name``; an unknown name raises ConfigurationError.

    ``image`` is the docker backend's image, ``rootfs`` the root filesystem bubblewrap binds
    read-only as ``/`` (the host's ``/usr`` when it does not exist).
    """
    try:
        factory = BACKENDS[name.strip().lower()]
    except KeyError:
        known = ", ".join(BACKENDS)
        raise ConfigurationError(
            f"unknown sandbox backend {name!r} (SANDBOX_BACKEND must be one of: {known})"
        ) from None
    return factory(image, rootfs, docker_client)
