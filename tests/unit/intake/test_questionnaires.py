"""Licensed ODI/RDQ item files: loaded when present, refused with the item and the problem when malformed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vertebro.intake.questionnaires import DEMO_DIR, QuestionnaireFileError, load_questionnaires


def test_without_a_folder_no_instrument_is_offered() -> None:
    assert not load_questionnaires(None).any


def test_the_demo_placeholders_are_marked_as_demo_and_not_the_instrument() -> None:
    loaded = load_questionnaires(DEMO_DIR)
    assert loaded.odi is not None
    assert loaded.rdq is not None
    assert loaded.odi.demo
    assert loaded.rdq.demo
    assert all("placeholder" in item.text.lower() for item in (*loaded.odi.items, *loaded.rdq.items))


def _write(folder: Path, name: str, data: object) -> None:
    (folder / name).write_text(yaml.safe_dump(data), encoding="utf-8")


def test_a_file_with_a_missing_statement_names_the_item(tmp_path: Path) -> None:
    data = yaml.safe_load((DEMO_DIR / "odi.yaml").read_text(encoding="utf-8"))
    data["demo"] = False
    data["items"][3]["options"] = data["items"][3]["options"][:5]
    _write(tmp_path, "odi.yaml", data)
    with pytest.raises(
        QuestionnaireFileError, match=r"odi.yaml: .*items\[3\].options: an ODI section has 6 statements"
    ):
        load_questionnaires(tmp_path)


def test_a_file_with_the_wrong_number_of_statements_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((DEMO_DIR / "rdq.yaml").read_text(encoding="utf-8"))
    data["items"] = data["items"][:23]
    _write(tmp_path, "rdq.yaml", data)
    with pytest.raises(QuestionnaireFileError, match="the RDQ has 24 items, the file has 23"):
        load_questionnaires(tmp_path)


def test_a_licence_statement_is_required(tmp_path: Path) -> None:
    data = yaml.safe_load((DEMO_DIR / "rdq.yaml").read_text(encoding="utf-8"))
    del data["licence"]
    _write(tmp_path, "rdq.yaml", data)
    with pytest.raises(QuestionnaireFileError, match="licence"):
        load_questionnaires(tmp_path)
