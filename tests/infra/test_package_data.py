"""A non-editable install (a wheel) carries every file the program reads that is not a module:
prompts, the Alembic configuration and template, the Slack manifest, the sandbox's Dockerfile,
the playground's page. A file missing from the package data only shows once installed."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "sandbox", "bot", "infra")
NOT_INSTALLED = {
    "infra/scripts/browser-setup.sh": "run by `make browser` from a checkout",
    "infra/scripts/system-setup.sh": "run by `make system` from a checkout",
}


def test_every_tracked_data_file_is_in_the_package_data() -> None:
    tracked = subprocess.run(["git", "ls-files", "--", *PACKAGES], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    data = [path for path in tracked if not path.endswith(".py")]
    assert "sandbox/prompts/reflexion.md" in data  # (the listing works)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {found.relative_to(ROOT).as_posix()  # setuptools globs each pattern in its package
               for package, patterns in package_data.items() for pattern in patterns
               for found in (ROOT / package).glob(pattern) if found.is_file()}
    missing = [path for path in data if path not in shipped and path not in NOT_INSTALLED]
    assert missing == [], f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"
