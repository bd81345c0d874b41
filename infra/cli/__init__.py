"""The ``dagbot`` command (typer): serve, ask (with its terminal front end), migrate, audit,
model; ``python -m infra.cli.entry`` where the script is not installed.
"""
