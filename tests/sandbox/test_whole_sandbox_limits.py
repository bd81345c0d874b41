"""Memory, CPU and the system-call filter hold for the sandbox as a whole, on every backend
(bubblewrap through a cgroup per run and a seccomp filter, docker through its own)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits
from sandbox.backends import bwrap as bwrap_module
from sandbox.backends import seccomp
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.cgroup import detect
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.factory import make_sandbox
from tests.sandbox.conftest import usable_backend

CHILD_MB = 30

MEMORY_SPREAD_OVER_CHILDREN = f"""
import os, time
r, w = os.pipe()
kids = []
for _ in range(10):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        block = b'\\x01' * ({CHILD_MB} << 20)   # filled, so every page is really used
        os.write(w, b'a')
        time.sleep(2)
        os.write(w, b'h')                       # still alive, still holding it
        os._exit(0)
    kids.append(pid)
os.close(w)
seen = b''
while chunk := os.read(r, 64):
    seen += chunk
for kid in kids:
    os.waitpid(kid, 0)
result = seen.count(b'h')
"""


async def test_memory_is_limited_for_the_sandbox_not_per_process(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """Ten children of 30 MB each, against a 128 MB limit: never all held at once."""
    outcome = await sandbox.run(MEMORY_SPREAD_OVER_CHILDREN, {}, gateway, limits)
    if outcome.ok:
        assert outcome.result * CHILD_MB < limits.memory_mb, outcome
    else:
        assert outcome.error_type == "MemoryLimitExceeded", outcome


CPU_SPREAD_OVER_CHILDREN = """
import os, time
r, w = os.pipe()
kids = []
start = time.monotonic()
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        while time.monotonic() < start + 1.5:
            pass
        os.write(w, f'{time.process_time()}\\n'.encode())
        os._exit(0)
    kids.append(pid)
os.close(w)
data = b''
while chunk := os.read(r, 4096):
    data += chunk
for kid in kids:
    os.waitpid(kid, 0)
result = sum(float(x) for x in data.split()) / (time.monotonic() - start)
"""


async def test_cpu_is_limited_for_the_sandbox_not_per_process(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """Four busy children against half a CPU: together they get about half a CPU (every
    core they could use without the quota would be two here)."""
    outcome = await sandbox.run(CPU_SPREAD_OVER_CHILDREN, {}, gateway, replace(limits, cpus=0.5))
    assert outcome.ok, outcome
    assert outcome.result < 0.9, f"the sandbox used {outcome.result:.2f} CPUs against 0.5"


SYSCALLS = {  # x86_64 numbers; each call is one Docker's default profile denies
    "keyctl": (250, 0, 0), "add_key": (248, 0, 0), "request_key": (249, 0, 0),
    "unshare": (272, 0x20000, 0), "setns": (308, 0, 0), "mount": (165, 0, 0),
    "umount2": (166, 0, 0), "ptrace": (101, 16, 1), "bpf": (321, 0, 0),
    "userfaultfd": (323, 0, 0), "perf_event_open": (298, 0, 0), "kexec_load": (246, 0, 0),
    "init_module": (175, 0, 0),
}


async def test_denied_system_calls_fail(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = (
        "import ctypes, errno, platform\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "assert platform.machine() == 'x86_64'\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "failed = {}\n"
        f"for name, (number, a, b) in {SYSCALLS!r}.items():\n"
        "    ret = libc.syscall(number, a, b, 0, 0, 0)\n"
        "    failed[name] = errno.errorcode.get(ctypes.get_errno(), '?') if ret == -1 else 'ran'\n"
        "result = {'seccomp': status['Seccomp'], 'failed': failed}\n"
    )
    outcome = await sandbox.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert outcome.result["seccomp"].strip() == "2"  # a filter is installed
    failed = outcome.result["failed"]
    if sandbox.name == "docker":  # Docker's default profile lets a container trace itself
        assert failed.pop("ptrace") in ("EPERM", "ran")
        expected = dict.fromkeys(set(SYSCALLS) - {"ptrace"}, "EPERM")
    else:
        expected = dict.fromkeys(SYSCALLS, "EPERM")
    assert failed == expected


# ------------------------------------------------------------ bubblewrap's cgroups


def run_dirs(pid: int) -> list[Path]:
    tree, _ = detect()
    assert tree is not None
    return [path for base in set(tree.bases.values()) for path in base.glob(f"run-{pid}-*")]


@pytest.mark.bwrap
async def test_each_run_gets_its_own_cgroup_and_it_is_removed(
    gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    backend = usable_backend("bwrap")
    assert isinstance(backend, BwrapSandbox) and backend.cgroups is not None
    code = "import os\nresult = len(os.listdir('/scratch'))"
    outcome = await backend.run(code, {}, gateway, limits)
    assert outcome.ok, outcome
    assert run_dirs(os.getpid()) == []


@pytest.mark.bwrap
def test_run_cgroups_of_a_dead_process_are_removed_at_start_up() -> None:
    usable_backend("bwrap")
    tree, _ = detect()
    assert tree is not None
    child = subprocess.Popen(["true"])
    child.wait()  # its pid now names a dead dagbot process
    stale = [base / f"run-{child.pid}-1-1" for base in set(tree.bases.values())]
    for path in stale:
        path.mkdir()
    assert BwrapSandbox().probe() is None  # what the factory does at start-up
    assert not any(path.exists() for path in stale)


def test_bwrap_refuses_to_run_without_a_cgroup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bwrap_module, "detect", lambda: (None, "no cgroup controllers here"))
    backend = make_sandbox("bwrap")
    assert isinstance(backend, UnavailableSandbox)
    assert "no cgroup can be made for a sandbox run (no cgroup controllers here)" in backend.message
    assert "per process only" in backend.message


async def test_a_bwrap_without_a_cgroup_never_starts_a_package(
    gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    backend = BwrapSandbox(cgroups=None)
    outcome = await backend.run("result = 1", {}, gateway, limits)
    assert not outcome.ok
    assert outcome.error_type == "SandboxError"
    assert "no cgroup" in (outcome.error or "")


def test_bwrap_refuses_to_run_without_a_seccomp_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seccomp, "problem", lambda: "cannot build the seccomp filter (test)")
    backend = make_sandbox("bwrap")
    assert isinstance(backend, UnavailableSandbox)
    assert "cannot build the seccomp filter (test)" in backend.message
