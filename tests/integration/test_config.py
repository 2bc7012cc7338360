"""Settings from the environment, and the default SQLite database location."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from vertebro.config import DEFAULT_DATABASE_URL, Settings
from vertebro.store.db import make_engine


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VERTEBRO_DATABASE_URL", "VERTEBRO_DEFAULT_PROFILE", "VERTEBRO_DOAC_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///var/vertebro.db"
    assert settings.default_profile == "acr"
    assert settings.doac_protocol == "asra"
    assert settings.policy().default_profile == "acr"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTEBRO_DATABASE_URL", "postgresql+psycopg://app@db/vertebro")
    monkeypatch.setenv("VERTEBRO_DEFAULT_PROFILE", "nice-ta279")
    monkeypatch.setenv("VERTEBRO_DOAC_PROTOCOL", "pause")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://app@db/vertebro"
    assert settings.policy().default_profile == "nice-ta279"
    assert settings.policy().doac_protocol == "pause"


@pytest.mark.parametrize(
    ("name", "value"),
    [("VERTEBRO_DEFAULT_PROFILE", "asra-2018"), ("VERTEBRO_DOAC_PROTOCOL", "none")],
)
def test_unknown_choices_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_default_sqlite_database_folder_is_created_relative_to_cwd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(DEFAULT_DATABASE_URL)
    try:
        assert (tmp_path / "var").is_dir()
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert (tmp_path / "var" / "vertebro.db").is_file()
    finally:
        engine.dispose()
