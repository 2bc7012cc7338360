"""Revision 7a0d1e2f0430 gives existing cases their source and default profile (SQLite and PostgreSQL), and keeps
the state counts the triggers maintain."""

from __future__ import annotations

from sqlalchemy import text

from vertebro.store import migrate
from vertebro.store.db import make_engine

T = "'2030-01-01 00:00:00+00'"
LATER = "'2030-01-02 00:00:00+00'"


def _rows(url: str) -> None:
    """Two cases: one opened by a portal request and assessed twice, one typed in by staff and never assessed."""
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(f"INSERT INTO patients (id, identifier, sex, created_at, version) VALUES (1, 'M-1', 'female', {T}, 1)")
        )
        for case_id in (1, 2):
            c.execute(
                text(
                    f"INSERT INTO cases (id, patient_id, facts, created_at, version) VALUES ({case_id}, 1, '{{}}', {T}, 1)"
                )
            )
            c.execute(
                text(
                    "INSERT INTO case_workflows (case_id, state, checklist, insurance_status, updated_at, version) "
                    f"VALUES ({case_id}, 'requested', '{{}}', 'unknown', {T}, 1)"
                )
            )
        for assessment_id, profile, at in ((1, "acr", T), (2, "nice-ta279", LATER)):
            c.execute(
                text(
                    "INSERT INTO assessments (id, case_id, ruleset_version, default_profile, default_category, "
                    f"treatment, result, created_at) VALUES ({assessment_id}, 1, 'r', '{profile}', 'appropriate', "
                    f"'kyphoplasty', '{{}}', {at})"
                )
            )
        c.execute(
            text(
                "INSERT INTO appointment_requests (id, patient_id, case_id, referring_doctor, where_it_hurts, "
                f"pain_since, created_at) VALUES (1, 1, 1, 'Dr Grey', 'lower_back', '2029-12-01', {T})"
            )
        )
    engine.dispose()


def test_existing_cases_get_their_source_and_latest_default_profile(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "7a0d1e2f0380")
    _rows(empty_db_url)
    migrate.upgrade(empty_db_url, "7a0d1e2f0430")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as c:
            rows = {r.case_id: (r.channel, r.default_profile) for r in c.execute(text("SELECT * FROM case_workflows"))}
            counts = dict(c.execute(text("SELECT state, n FROM case_state_counts WHERE n > 0")).all())
        assert rows == {1: ("portal", "nice-ta279"), 2: ("staff", None)}
        assert counts == {"requested": 2}
        with engine.begin() as c:  # the triggers still count after the columns were added
            c.execute(text("UPDATE case_workflows SET state = 'screening' WHERE case_id = 2"))
        with engine.connect() as c:
            counts = dict(c.execute(text("SELECT state, n FROM case_state_counts WHERE n > 0")).all())
        assert counts == {"requested": 1, "screening": 1}
        migrate.downgrade(empty_db_url, "7a0d1e2f0380")
    finally:
        engine.dispose()
