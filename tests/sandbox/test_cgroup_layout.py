"""Where run cgroups go and what they are given, on both cgroup layouts.

A fake cgroupfs in a temporary directory: the development and CI machines have cgroup v1
only, so v2 is checked here for its layout and limit files (the kernel's side of v1 is
exercised for real by test_whole_sandbox_limits).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.ports.sandbox import SandboxLimits
from sandbox.backends import cgroup

LIMITS = SandboxLimits(memory_mb=128, pids=32, cpus=0.5)


def test_cgroup_v2_runs_go_beside_dagbots_own_cgroup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "unified"
    own = root / "system.slice" / "dagbot.service"
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (own.parent / "cgroup.subtree_control").write_text("cpu memory pids\n")
    monkeypatch.setattr(cgroup, "_mounts", lambda: (root, {}))
    monkeypatch.setattr(cgroup, "_own_cgroups", lambda: {"": "/system.slice/dagbot.service"})

    tree, problem = cgroup.detect()
    assert problem is None and tree is not None and tree.version == 2
    base = root / "system.slice" / "dagbot-sandbox"
    assert set(tree.bases.values()) == {base}
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"

    run = tree.create(LIMITS)
    (run_dir,) = set(run.dirs.values())
    assert run_dir.parent == base
    assert {f: (run_dir / f).read_text() for f in
            ("memory.max", "memory.swap.max", "pids.max", "cpu.max")} == {
        "memory.max": str(128 << 20), "memory.swap.max": "0",
        "pids.max": str(32 + cgroup.SANDBOX_OVERHEAD_PIDS), "cpu.max": "50000 100000",
    }
    assert run.procs_files == [str(run_dir / "cgroup.procs")]
    assert not run.oom_killed()
    (run_dir / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert run.oom_killed()


def test_cgroup_v1_runs_go_under_dagbots_cgroup_in_each_hierarchy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounts = {c: tmp_path / c for c in cgroup.CONTROLLERS}
    for mount in mounts.values():
        mount.mkdir()
    (tmp_path / "memory" / "job").mkdir()
    monkeypatch.setattr(cgroup, "_mounts", lambda: (tmp_path / "unified", mounts))
    monkeypatch.setattr(cgroup, "_own_cgroups",
                        lambda: {"": "/", "memory": "/job", "pids": "/", "cpu": "/"})

    tree, problem = cgroup.detect()  # the v2 mount holds no controllers: v1 it is
    assert problem is None and tree is not None and tree.version == 1
    assert tree.bases["memory"] == tmp_path / "memory" / "job" / "dagbot-sandbox"

    run = tree.create(LIMITS)
    read = {c: {f.name: f.read_text() for f in d.iterdir()} for c, d in run.dirs.items()}
    assert read == {
        "memory": {"memory.limit_in_bytes": str(128 << 20),
                   "memory.memsw.limit_in_bytes": str(128 << 20)},
        "pids": {"pids.max": str(32 + cgroup.SANDBOX_OVERHEAD_PIDS)},
        "cpu": {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000"},
    }
    assert len(run.procs_files) == 3
    (run.dirs["memory"] / "memory.oom_control").write_text(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert run.oom_killed()


def test_without_the_controllers_there_is_no_tree_and_it_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroup, "_mounts", lambda: (None, {"memory": tmp_path}))
    monkeypatch.setattr(cgroup, "_own_cgroups", lambda: {"memory": "/"})
    tree, problem = cgroup.detect()
    assert tree is None
    assert problem == "no cgroup hierarchy with the memory, pids and cpu controllers"
