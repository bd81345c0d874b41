"""Which database the playground uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.playground.app import fresh_database
from infra.settings import Settings


def test_without_database_url_the_playground_starts_from_an_empty_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    old = tmp_path / "pg" / "dagbot.sqlite"
    old.parent.mkdir()
    old.write_text("yesterday's threads")
    settings = fresh_database(Settings(DAGBOT_PLAYGROUND_DIR=tmp_path / "pg"))
    assert settings.database_url == f"sqlite:///{old}"
    assert not old.exists()


def test_an_explicit_database_url_is_kept(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL="postgresql://dagbot@db/dagbot", DAGBOT_PLAYGROUND_DIR=tmp_path)
    assert fresh_database(settings).database_url == "postgresql://dagbot@db/dagbot"
