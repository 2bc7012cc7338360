"""``vertebro assess`` on a FHIR Bundle prints where each fact came from, what is not recorded, what was ignored."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vertebro.cli import app

BUNDLE = Path(__file__).parents[2] / "fixtures" / "fhir-uscore" / "01-osteoporotic-l1-warfarin.json"


def test_assess_on_a_bundle_prints_the_reading_report() -> None:
    result = CliRunner().invoke(app, ["assess", str(BUNDLE), "--as-of", "2030-03-01"])
    assert result.exit_code == 0, result.output
    assert "labs.platelets: Observation/uc1-plt.valueQuantity" in result.output
    assert "Not recorded (unknown, never 'no'): red_flags.active_infection" in result.output
    assert "Ignored Observation/uc1-plt-old: status entered-in-error" in result.output


def test_assess_json_on_a_bundle_carries_the_reading_report() -> None:
    result = CliRunner().invoke(app, ["assess", str(BUNDLE), "--as-of", "2030-03-01", "--format", "json"])
    intake = json.loads(result.output)["fhir_intake"]
    assert intake["sources"]["fractures[0].level"] == "Condition/uc1-fx.bodySite"
    assert {"resource": "Observation/uc1-bmi", "reason": "code not read by vertebro (see docs/fhir-intake.md)"} in (
        intake["ignored"]
    )
