"""Builds the package runner (a sandbox backend healed by reflexion) from settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from agent.ports.sandbox import PackageRunner
from infra.settings import Settings
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.factory import make_sandbox
from sandbox.reflexion import ReflexionPackageRunner
from sandbox.slots import SandboxSlots

if TYPE_CHECKING:
    from infra.operations.metrics import Metrics

log = logging.getLogger(__name__)


def package_runner(settings: Settings, llm: BaseChatModel, metrics: Metrics | None = None) -> PackageRunner:
    """SANDBOX_BACKEND's sandbox (``auto`` probes Docker, then bubblewrap) with reflexion.

    An unknown backend name raises ConfigurationError. With no backend available the runner
    still exists: each package node then fails with a message saying how to install one.
    Probing talks to the Docker engine, so call this once at start-up, not per request.
    With ``metrics``, the sandbox's runs are counted and readiness checks it can run.
    """
    sandbox = make_sandbox(settings.sandbox_backend, image=settings.sandbox_image,
                           rootfs=settings.sandbox_rootfs)
    if isinstance(sandbox, UnavailableSandbox):  # said once at start-up, not only per node
        log.warning("%s", sandbox.message)
    else:
        limited_by = getattr(getattr(sandbox, "cgroups", None), "mechanism", "its container")
        log.info("package nodes run in the %s sandbox, limited by %s", sandbox.name, limited_by)
    sandbox = SandboxSlots(sandbox, settings.sandbox_concurrency)
    if metrics is not None:
        sandbox = metrics.sandbox(sandbox)
    return ReflexionPackageRunner(sandbox, llm, settings.sandbox_limits(), settings.package_attempts,
                                  table_queries=settings.table_queries)
