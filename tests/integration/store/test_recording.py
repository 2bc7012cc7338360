"""The CLI entry points: save a real assessment to a database URL, read the worklist back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from vertebro.clinical.assessment import assess
from vertebro.clinical.facts import Case
from vertebro.clinical.serialize import assessment_json
from vertebro.errors import NotMigrated
from vertebro.store import migrate
from vertebro.store.recording import assessment_fields, read_worklist, save_assessment

MakeCase = Callable[..., Case]


def test_save_assessment_and_read_worklist(empty_db_url: str, make_case: MakeCase) -> None:
    migrate.upgrade(empty_db_url)
    case = make_case("MRN-CLI", levels=("T12", "L1"))
    assessment = assess(case, as_of=dt.date(2026, 11, 22))
    fields = assessment_fields(assessment)

    recorded = save_assessment(
        empty_db_url, case, assessment, assessment_json(assessment), actor="cli:me", source="cli"
    )
    [row] = read_worklist(empty_db_url, actor="cli:me", source="cli")

    assert recorded.patient_created
    assert row.case_id == recorded.case_id
    assert row.patient_identifier == "MRN-CLI"
    assert row.levels == ("T12", "L1")
    assert row.ruleset_version == assessment.ruleset_version
    assert row.default_profile == fields["default_profile"] == "acr"
    assert row.default_category == assessment.default_verdict.category.value
    assert row.treatment == assessment.recommendation.treatment.value
    assert set(fields["genant_by_level"]) == {"T12", "L1"}


def test_unmigrated_database_is_reported(empty_db_url: str, make_case: MakeCase) -> None:
    case = make_case("MRN-NODB")
    assessment = assess(case, as_of=dt.date(2026, 11, 22))
    with pytest.raises(NotMigrated, match="vertebro db upgrade"):
        save_assessment(empty_db_url, case, assessment, assessment_json(assessment), actor="cli:me", source="cli")
