"""Choosing a sandbox backend by name (``SANDBOX_BACKEND=auto|docker|bwrap``).

Every factory probes its backend once (cheaply: a ping and an image lookup for docker, one
empty sandbox for bubblewrap), and clears what a dead dagbot process left behind: run cgroups,
and its sandbox containers (by their label), whichever backend runs packages now, as long as a
Docker engine answers (a dagbot killed while it used Docker and started again with bubblewrap,
or while the image is being rebuilt, leaves none behind). A backend that cannot run here is replaced by
:class:`~sandbox.backends.unavailable.UnavailableSandbox`, whose runs fail saying what is wrong
and how to install or fix it; package code never runs unsandboxed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker

from agent.errors import ConfigurationError
from agent.ports.sandbox import Sandbox
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.image import DEFAULT_IMAGE, DEFAULT_ROOTFS


@dataclass(frozen=True)
class BackendOptions:
    image: str = DEFAULT_IMAGE
    rootfs: str | Path | None = DEFAULT_ROOTFS
    docker_client: docker.DockerClient | None = None
    bwrap: str | None = None
    """The bubblewrap binary (default: ``bwrap`` on PATH)."""


def _docker_backend(options: BackendOptions) -> tuple[DockerSandbox, str | None]:
    engine = DockerSandbox(image=options.image, client=options.docker_client)
    problem = engine.problem()
    if problem is None or engine.answers():  # start-up: containers a dead dagbot left go now
        engine.reap_orphans()
    return engine, problem


def _bwrap_backend(options: BackendOptions) -> tuple[BwrapSandbox, str | None]:
    bwrap = BwrapSandbox(rootfs=options.rootfs, bwrap=options.bwrap)
    engine = DockerSandbox(image=options.image, client=options.docker_client)
    if engine.answers():  # packages ran in Docker before this start, maybe: its leftovers go
        engine.reap_orphans()
    return bwrap, bwrap.probe()


def _docker(options: BackendOptions) -> Sandbox:
    engine, problem = _docker_backend(options)
    if problem is None:
        return engine
    return UnavailableSandbox([f"docker: {problem}"], requested="docker")


def _bwrap(options: BackendOptions) -> Sandbox:
    bwrap, problem = _bwrap_backend(options)
    if problem is None:
        return bwrap
    return UnavailableSandbox([f"bwrap: {problem}"], requested="bwrap")


def _auto(options: BackendOptions) -> Sandbox:
    """Docker when an engine answers and has the image; else bubblewrap when it can start a
    sandbox; else a backend whose runs fail and say how to install one."""
    reasons = []
    engine, problem = _docker_backend(options)
    if problem is None:
        return engine
    reasons.append(f"docker: {problem}")
    bwrap = BwrapSandbox(rootfs=options.rootfs, bwrap=options.bwrap)  # (Docker's leftovers: gone above)
    problem = bwrap.probe()
    if problem is None:
        return bwrap
    reasons.append(f"bwrap: {problem}")
    return UnavailableSandbox(reasons)


BACKENDS: dict[str, Callable[[BackendOptions], Sandbox]] = {
    "auto": _auto,
    "docker": _docker,
    "bwrap": _bwrap,
}


def make_sandbox(
    name: str = "auto", *, image: str = DEFAULT_IMAGE, rootfs: str | Path | None = DEFAULT_ROOTFS,
    docker_client: docker.DockerClient | None = None, bwrap: str | None = None,
) -> Sandbox:
    """The sandbox backend called ``name``; an unknown name raises ConfigurationError.

    ``image`` is the docker backend's image, ``rootfs`` the root filesystem bubblewrap binds
    read-only as ``/`` (the host's ``/usr`` when it does not exist), ``bwrap`` the bubblewrap
    binary. A named backend that cannot run here (and ``auto`` when none can) comes back as an
    :class:`UnavailableSandbox` saying why and how to fix it. Probing talks to the Docker
    engine or starts one empty sandbox: call this once at start-up.
    """
    try:
        factory = BACKENDS[name.strip().lower()]
    except KeyError:
        known = ", ".join(BACKENDS)
        raise ConfigurationError(
            f"unknown sandbox backend {name!r} (SANDBOX_BACKEND must be one of: {known})"
        ) from None
    return factory(BackendOptions(image=image, rootfs=rootfs, docker_client=docker_client,
                                  bwrap=bwrap))
