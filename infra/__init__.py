"""Wiring: settings, database, checkpointer, stores, CLI."""
