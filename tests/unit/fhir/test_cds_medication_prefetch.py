"""CDS Hooks: an absent medication prefetch is read as "not reviewed" (never "no medicines") and the card says so."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.unit.fhir.cds_requests import hook_request
from vertebro.clinical import DEFAULT_POLICY
from vertebro.fhir.cds_hooks import cards
from vertebro.intake.fhir_bundle import case_from_resources

TODAY = dt.date(2030, 3, 1)


def _summaries(request: dict[str, Any]) -> list[str]:
    result = cards(
        "vertebro-order-sign",
        request,
        reader=case_from_resources,
        policy=DEFAULT_POLICY,
        patient_link=None,
        today=TODAY,
    )
    return [card["summary"] for card in result["cards"]]


def test_without_a_medication_prefetch_the_card_says_the_medicines_are_not_reviewed() -> None:
    request = hook_request("order-sign")
    del request["prefetch"]["medicationStatements"]
    summaries = _summaries(request)
    assert "Medication list not sent: medicines not reviewed" in summaries
    assert not any(s.startswith("Medication holds") for s in summaries)  # no list: no holds, and not "none"
    assert "Missing data: medication list reviewed (the list, or takes none)" in summaries


def test_with_a_medication_prefetch_no_such_card() -> None:
    assert "Medication list not sent: medicines not reviewed" not in _summaries(hook_request("order-sign"))
