"""What the sandbox image and root filesystem are, and where they live.

Built by ``infra/scripts/system-setup.sh`` (``make sandbox-image``); keep the version and the
package list in step with that script and ``infra/sandbox/Dockerfile`` (a test checks it).
"""

from __future__ import annotations

from pathlib import Path

SANDBOX_VERSION = "1"
DEFAULT_IMAGE = f"dagbot-sandbox:{SANDBOX_VERSION}"
"""Docker image: Debian bookworm minbase + the packages below, user 65534, workdir /scratch."""

DEFAULT_ROOTFS = Path(f"/var/lib/dagbot/sandbox/rootfs-{SANDBOX_VERSION}")
"""The same root filesystem, extracted, for bubblewrap (``--ro-bind ROOTFS /``)."""

IMAGE_PACKAGES = ("python3", "python3-bs4", "python3-lxml", "python3-yaml", "python3-dateutil")
"""Debian packages in the image: Python 3.11 with bs4, lxml, PyYAML and dateutil."""

SANDBOX_UID = 65534
"""nobody:nogroup — package code never runs as root."""

SANDBOX_PYTHON = "/usr/bin/python3"
SCRATCH = "/scratch"
SETUP_HINT = "run `make sandbox-image` (infra/scripts/system-setup.sh) as root"
