"""A cgroup per bubblewrap run, so that memory, process and CPU limits hold for the sandbox as
a whole (rlimits hold per process only: ten children of 200 MB each got past a 256 MB limit).

Direct cgroupfs, no systemd: systemd is not PID 1 on every machine dagbot runs on (it is not
on the development and CI machines), and a transient unit costs a D-Bus round trip per run.
Both layouts are handled:

cgroup v2 (one hierarchy with ``memory``, ``pids`` and ``cpu`` available)
    ``<parent of dagbot's cgroup>/dagbot-sandbox/run-…``: a sibling of dagbot's own cgroup,
    since a cgroup that holds processes (dagbot's) cannot hand controllers to children.
    ``memory.max``, ``memory.swap.max`` = 0, ``pids.max``, ``cpu.max``.
cgroup v1 (a hierarchy per controller, as on the development and CI machines)
    ``<dagbot's cgroup in each of memory, pids, cpu>/dagbot-sandbox/run-…``;
    ``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``, ``pids.max``,
    ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``.

The run's process enters its cgroups before bwrap starts (a shell writes its own pid into
each ``cgroup.procs`` and execs bwrap), so everything in the sandbox is counted from the
first instruction. Run directories are named after the owning dagbot process; the next
process removes those of a dead one (:meth:`CgroupTree.reap`). Creating cgroups needs root
(or a delegated sub-tree); when none can be had, :func:`detect` says why and the bwrap
backend refuses to run packages rather than promise limits that would not hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from agent.ports.sandbox import SandboxLimits
from sandbox.backends import process_identity

CONTROLLERS = ("memory", "pids", "cpu")
BASE_NAME = "dagbot-sandbox"
CPU_PERIOD_US = 100_000
SANDBOX_OVERHEAD_PIDS = 3
"""bwrap, its init in the new pid namespace, and the runner: not the package's to spend."""
SWAP_FILES = frozenset({"memory.swap.max", "memory.memsw.limit_in_bytes"})
"""Absent where the kernel does not account swap; the memory limit then holds without them."""
_runs = itertools.count(1)


def _run_prefix(identity: str) -> str:
    _host, pid, start = identity.split("/")
    return f"run-{pid}-{start}-"


@dataclass
class RunCgroup:
    """The cgroup(s) of one run: one directory on v2, one per controller on v1."""

    version: int
    dirs: dict[str, Path]
    """controller → directory (on v2 every controller maps to the same one)."""

    @property
    def procs_files(self) -> list[str]:
        return sorted({str(path / "cgroup.procs") for path in self.dirs.values()})

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process here for exceeding the memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            text = (self.dirs["memory"] / name).read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0")) > 0

    def kill_all(self) -> None:
        """SIGKILL every process still in the run's cgroup(s)."""
        for procs in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                for pid in Path(procs).read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)

    def try_remove(self) -> bool:
        """Remove the directories; when a process is still inside, kill it and say False."""
        busy = False
        for path in set(self.dirs.values()):
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                busy = True
        if busy:
            self.kill_all()
        return not busy

    async def remove(self, attempts: int = 100) -> bool:
        """Remove the directories, killing what is left inside; False if still busy."""
        for _ in range(attempts):
            if self.try_remove():
                return True
            await asyncio.sleep(0.01)  # killed processes take a moment to leave
        return False


class CgroupTree:
    """Where this dagbot process makes its run cgroups."""

    def __init__(self, version: int, bases: dict[str, Path]) -> None:
        self.version = version
        self.bases = bases
        """controller → the ``dagbot-sandbox`` directory holding the runs."""
        self.identity = process_identity() or f"?/{os.getpid()}/0"

    @property
    def mechanism(self) -> str:
        return f"cgroup v{self.version} ({', '.join(sorted({str(p) for p in self.bases.values()}))})"

    def create(self, limits: SandboxLimits) -> RunCgroup:
        """A new run cgroup with ``limits`` applied (raises OSError when it cannot be made)."""
        name = f"{_run_prefix(self.identity)}{next(_runs)}"
        dirs = {controller: base / name for controller, base in self.bases.items()}
        run = RunCgroup(self.version, dirs)
        try:
            for path in set(dirs.values()):
                path.mkdir()
            for controller, (file, value) in self._settings(limits):
                try:
                    (dirs[controller] / file).write_text(value)
                except FileNotFoundError:
                    if file not in SWAP_FILES:
                        raise
        except OSError:
            for path in set(dirs.values()):
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise
        return run

    def _settings(self, limits: SandboxLimits) -> list[tuple[str, tuple[str, str]]]:
        memory = str(limits.memory_mb << 20)
        pids = str(limits.pids + SANDBOX_OVERHEAD_PIDS)
        quota = str(max(1000, math.ceil(limits.cpus * CPU_PERIOD_US)))
        if self.version == 2:
            return [("memory", ("memory.max", memory)), ("memory", ("memory.swap.max", "0")),
                    ("pids", ("pids.max", pids)), ("cpu", ("cpu.max", f"{quota} {CPU_PERIOD_US}"))]
        return [("memory", ("memory.limit_in_bytes", memory)),
                ("memory", ("memory.memsw.limit_in_bytes", memory)),
                ("pids", ("pids.max", pids)),
                ("cpu", ("cpu.cfs_period_us", str(CPU_PERIOD_US))),
                ("cpu", ("cpu.cfs_quota_us", quota))]

    def reap(self) -> int:
        """Remove run cgroups left by dagbot processes that are gone; how many."""
        removed = 0
        for base in set(self.bases.values()):
            for path in base.glob("run-*"):
                parts = path.name.split("-")
                if len(parts) != 4 or not path.is_dir():
                    continue
                identity = process_identity(int(parts[1])) if parts[1].isdigit() else None
                if identity and _run_prefix(identity) == f"run-{parts[1]}-{parts[2]}-":
                    continue  # its owner is alive
                dirs = {c: b / path.name for c, b in self.bases.items() if (b / path.name).is_dir()}
                run = RunCgroup(self.version, dirs)
                for _ in range(50):
                    if run.try_remove():
                        removed += 1
                        break
                    time.sleep(0.01)
        return removed


def _mounts() -> tuple[Path | None, dict[str, Path]]:
    """The cgroup2 mount point, and the v1 mount point of each controller."""
    v2: Path | None = None
    v1: dict[str, Path] = {}
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields, _, tail = line.partition(" - ")
            kind, _source, options = [*tail.split(), "", "", ""][:3]
            mount_point = Path(fields.split()[4])
            if kind == "cgroup2" and v2 is None:
                v2 = mount_point
            elif kind == "cgroup":
                for option in options.split(","):
                    if option in CONTROLLERS:
                        v1.setdefault(option, mount_point)
    return v2, v1


def _own_cgroups() -> dict[str, str]:
    """Controller (or "" for v2) → this process's cgroup path."""
    own: dict[str, str] = {}
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            _id, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    return own


def _enable(base: Path, parent: Path) -> None:
    """Make ``base`` (v2) and hand the three controllers down to its children."""
    wanted = " ".join(f"+{c}" for c in CONTROLLERS)
    missing = set(CONTROLLERS) - set((parent / "cgroup.subtree_control").read_text().split())
    if missing:
        (parent / "cgroup.subtree_control").write_text(wanted)
    base.mkdir(exist_ok=True)
    (base / "cgroup.subtree_control").write_text(wanted)


def detect() -> tuple[CgroupTree | None, str | None]:
    """This machine's cgroup tree for sandbox runs, or None and why there is none."""
    try:
        v2, v1 = _mounts()
        own = _own_cgroups()
    except OSError as exc:
        return None, f"cannot read this process's cgroups: {exc}"
    problems = []
    if v2 is not None and "" in own:
        here = v2 / own[""].lstrip("/")
        try:
            available = set((here / "cgroup.controllers").read_text().split())
            if set(CONTROLLERS) <= available:
                parent = here.parent if here != v2 else v2
                _enable(parent / BASE_NAME, parent)
                return CgroupTree(2, dict.fromkeys(CONTROLLERS, parent / BASE_NAME)), None
            problems.append(f"cgroup v2 at {v2} lacks {sorted(set(CONTROLLERS) - available)}")
        except OSError as exc:
            problems.append(f"cgroup v2 at {v2}: {exc}")
    if set(CONTROLLERS) <= set(v1) and set(CONTROLLERS) <= set(own):
        bases = {c: v1[c] / own[c].lstrip("/") / BASE_NAME for c in CONTROLLERS}
        try:
            for base in bases.values():
                base.mkdir(exist_ok=True)
                if not os.access(base, os.W_OK):
                    raise PermissionError(f"{base} is not writable")
            return CgroupTree(1, bases), None
        except OSError as exc:
            problems.append(f"cgroup v1: {exc}")
    elif not problems:
        problems.append("no cgroup hierarchy with the memory, pids and cpu controllers")
    return None, "; ".join(problems)
