"""The ``dagbot`` command's entry point: the CLI (:mod:`infra.cli.app`) with Python's cyclic
garbage collector kept off the work it cannot do any good at.

Starting, dagbot imports some 2,700 modules (LangGraph, LangChain, SQLAlchemy, Slack's SDK…),
whose objects live as long as the process; stopping, Python's last collection walks them all.
The collector is paused during the imports and everything they made is frozen out of its
generations (:func:`gc.freeze`), and again when the command ends: about a second of CPU less
at every start and every stop (docs/benchmarks.md), and nothing else changes: cycles made
while dagbot runs are collected as always.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from infra.cli.app import main as run_command
    finally:
        gc.freeze()
        gc.enable()
    try:
        run_command()
    finally:
        gc.freeze()  # what is left is torn down with the process


if __name__ == "__main__":
    main()
