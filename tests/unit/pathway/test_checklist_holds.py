"""The pre-procedure checklist blocks booking while a hold waits for the prescriber or for a fact."""

from __future__ import annotations

import pytest

from tests.unit.clinical.builders import assessed, make_case
from vertebro.pathway.checklist import Confirmations, missing_items


@pytest.mark.rule("medications.antiplatelet_secondary_decision")
def test_a_stent_antiplatelet_blocks_booking_until_the_decision_is_recorded() -> None:
    """ASRA 2018: secondary prophylaxis only after "shared assessment & risk stratification" with the prescriber."""
    changes = {"medications": [{"name": "clopidogrel", "purpose": "secondary_prevention"}]}
    missing = missing_items(make_case(changes), assessed(changes), Confirmations())
    assert "prescriber's decision on clopidogrel recorded" in missing


@pytest.mark.rule("asra.doac")
def test_a_doac_without_kidney_function_blocks_booking() -> None:
    """ASRA 2018 "five half-lives": the creatinine clearance is needed to date the hold."""
    changes = {"medications": [{"name": "apixaban"}]}
    missing = missing_items(make_case(changes), assessed(changes), Confirmations())
    assert "creatinine clearance recorded (to date the apixaban hold)" in missing
