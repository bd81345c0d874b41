"""Builds the package runner (sandbox + reflexion) from settings."""

from __future__ import annotations

from agent.ports import PackageRunner
from infra.settings import Settings


def package_runner(settings: Settings) -> PackageRunner | None:
    return None
