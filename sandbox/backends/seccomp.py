"""The seccomp filter bubblewrap installs before the runner starts (``bwrap --seccomp FD``).

Docker applies its default profile to every container; bwrap applies nothing unless given a
compiled BPF program. This one denies, with EPERM as Docker does, the system calls Docker's
default profile denies that a package could reach: kernel keyrings, mounts and namespaces,
tracing other processes, BPF, userfaultfd, perf events, module and kexec loading, clock and
swap changes, and the like. ``clone3`` fails with ENOSYS, as under Docker, so that the C
library falls back to ``clone``, whose namespace flags are denied by argument. System calls
of other architectures (i386, x32) kill the process: a package has no use for them.

Built with pyseccomp (ctypes over Debian's libseccomp2; the Debian ``python3-seccomp``
bindings are not importable from dagbot's own Python). The program is compiled once per
process and handed to each bwrap through a pipe.
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile

DENIED = (
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
    "get_kernel_syms", "get_mempolicy", "init_module", "io_uring_enter", "io_uring_register",
    "io_uring_setup", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl",
    "lookup_dcookie", "mbind", "mount", "mount_setattr", "move_mount", "move_pages",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open",
    "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace",
    "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy",
    "setns", "settimeofday", "swapoff", "swapon", "sysfs", "_sysctl", "umount2", "unshare",
    "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
)
"""Denied with EPERM (names this kernel's architecture lacks are skipped)."""

CLONE_NAMESPACE_FLAGS = (
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
    | 0x00000080
)
"""CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME."""


@functools.cache
def filter_program() -> bytes:
    """The compiled BPF program (raises ImportError/OSError when libseccomp is missing)."""
    import pyseccomp as seccomp  # only the bwrap backend needs libseccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            continue  # no such system call on this architecture
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in _bits(CLONE_NAMESPACE_FLAGS):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                       seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def _bits(mask: int) -> list[int]:
    return [1 << bit for bit in range(mask.bit_length()) if mask >> bit & 1]


def program_fd() -> int:
    """A pipe's read end holding the program, for one bwrap (it reads it to the end)."""
    program = filter_program()
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, program)  # a few KiB: fits in the pipe's buffer
    finally:
        os.close(write_fd)
    return read_fd


def problem() -> str | None:
    """Why no filter can be built here, or None."""
    try:
        filter_program()
    except Exception as exc:  # ImportError, OSError from ctypes, libseccomp's own errors
        return (f"cannot build the seccomp filter ({type(exc).__name__}: {exc}); install "
                "libseccomp2 (apt-get install libseccomp2) and the pyseccomp package")
    return None
