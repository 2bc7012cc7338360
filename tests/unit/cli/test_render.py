"""The terminal output keeps its "[verify]" and "[unverified]" marks (Rich must not read them as markup)."""

from __future__ import annotations

import re

from rich.console import Console
from typer.testing import CliRunner

from tests.unit.clinical.builders import assessed
from vertebro.cli import app
from vertebro.cli.render import print_assessment
from vertebro.clinical import assessment_json
from vertebro.clinical.rules import RULES


def rendered(changes: dict[str, object]) -> str:
    console = Console(record=True, width=240, color_system=None)
    print_assessment(console, assessment_json(assessed(changes)), "Test patient, 76 y, female")
    return console.export_text()


def test_the_hold_table_of_assess_shows_verify_marks() -> None:
    text = rendered(
        {
            "medications": [{"name": "clopidogrel", "purpose": "primary_prevention"}, {"name": "apixaban"}],
            "labs": {"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0},
        }
    )
    assert re.search(r"asra\.p2y12 \[verify\]", text)
    assert re.search(r"asra\.doac \[verify\]", text)
    assert "[unverified]" in text  # the reasons and the disclaimer


def test_a_hold_waiting_for_the_prescriber_says_so_in_the_table() -> None:
    text = rendered({"medications": [{"name": "clopidogrel", "purpose": "secondary_prevention"}]})
    assert "no date yet" in text
    assert "waiting for: prescriber's decision on clopidogrel" in text


def test_rules_keeps_the_confirmation_marks() -> None:
    result = CliRunner().invoke(app, ["rules", "--unverified"])
    assert result.exit_code == 0, result.output
    unverified = [r for r in RULES.values() if r.unverified]
    assert unverified
    for r in unverified:
        assert f"{r.id} [unverified]" in result.output
    everything = CliRunner().invoke(app, ["rules"]).output
    assert "[secondary]" in everything
    assert "[local_policy]" in everything
