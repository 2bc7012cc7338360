"""The clinic settings form's checks (decision 0035): required values, lengths, phone characters and a known
time zone, all named at once; what passes is trimmed."""

from __future__ import annotations

from vertebro.clinical.clinic import Clinic
from vertebro.store.clinic_settings import FIELDS, checked_values, clinic_values


def test_the_demo_clinic_passes_its_own_checks() -> None:
    values, errors = checked_values(clinic_values(Clinic()))
    assert errors == {}
    assert values["time_zone"] == "Europe/London"
    assert values["directions"] is None  # not given: None, never an empty string shown as a value


def test_every_problem_is_named_by_its_field() -> None:
    form = {**clinic_values(Clinic()), "name": "  ", "phone": "ring us", "time_zone": "Europe/Nowhere"}
    form["site"] = "s" * 201
    _, errors = checked_values(form)
    assert set(errors) == {"name", "phone", "time_zone", "site"}
    assert errors["site"] == "Site: at most 200 characters (this has 201)"


def test_optional_settings_may_be_left_empty_and_required_ones_not() -> None:
    _, errors = checked_values({})
    assert set(errors) == {f.name for f in FIELDS if f.required}


def test_the_team_email_is_one_address_or_nothing() -> None:
    """Decision 0038: the team's address gets "a patient message is waiting"; a list or a name is refused."""
    for good in ("spinal.team@hospital.example", "ir-day-unit+inbox@nhs.example.uk"):
        values, errors = checked_values({**clinic_values(Clinic()), "team_email": f" {good} "})
        assert errors == {}
        assert values["team_email"] == good
    for bad in ("the team", "a@b", "a@b.example, c@d.example", "Team <team@h.example>", "a b@h.example", "@h.example"):
        _, errors = checked_values({**clinic_values(Clinic()), "team_email": bad})
        assert set(errors) == {"team_email"}, bad
    values, errors = checked_values({**clinic_values(Clinic()), "team_email": ""})
    assert errors == {}
    assert values["team_email"] is None
