"""Waiting for state that changes under HTTP (now in :mod:`infra.emulators.waiting`)."""

from infra.emulators.waiting import wait_until

__all__ = ["wait_until"]
