"""The ``dagbot`` command (typer): serve, ask (with its terminal front end), migrate, audit,
model; ``python -m infra.cli.app.app``.
"""
