"""docs/configuration.md's table names every setting dagbot reads, and nothing else; the
README's short table names settings that exist."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"


def table_names(page: Path = CONFIGURATION) -> set[str]:
    text = page.read_text().split("# Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}


def setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update(str(choice) for choice in choices if isinstance(choice, str))
    return names


def test_every_setting_is_in_the_configuration_table_and_every_row_is_a_setting() -> None:
    documented, read = table_names(), setting_names()
    assert read - documented == set(), "settings missing from docs/configuration.md's table"
    assert documented - read == set(), "docs/configuration.md rows that are no settings"


def test_the_readme_table_shows_settings_that_exist() -> None:
    shown = table_names(README)
    assert len(shown) >= 8 and shown - setting_names() == set()

