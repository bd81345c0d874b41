"""``python -m tests.worker MODULE ARGS…``: runs one of the tests' worker modules as ``python -m
MODULE ARGS…`` would, with the garbage collector paused over its imports and what they made
frozen, as the ``dagbot`` command does (infra/cli/entry.py): about a second of CPU less at every
start and stop, for the tests that start several processes."""

from __future__ import annotations

import gc
import importlib
import runpy
import sys


def main() -> None:
    module = sys.argv[1]
    gc.disable()
    try:
        importlib.import_module(module)  # its imports; its body runs again below, as __main__
    finally:
        gc.freeze()
        gc.enable()
    sys.argv = [module, *sys.argv[2:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
