"""Serving an ASGI app on a free port (now in :mod:`infra.emulators.asgi_server`)."""

from infra.emulators.asgi_server import BackgroundServer, ThreadedServer

__all__ = ["BackgroundServer", "ThreadedServer"]
