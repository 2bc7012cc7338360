"""The code data files: every local code exists, every standard code says whether it is verified."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from tests.unit.fhir.validation import problems
from vertebro.fhir import codes


def _references() -> list[str]:
    data = codes.maps()
    refs = [spec["code"] for scope in ("case_facts", "fracture_facts") for spec in data[scope]]
    refs += list(data["height_components"].values())
    refs += [data["genant_grade"], *data["medication_route"].values()]
    return refs


@pytest.mark.parametrize("reference", _references())
def test_every_code_reference_resolves(reference: str) -> None:
    coding = codes.coding(reference)
    assert coding["code"]
    assert coding["display"]
    assert coding["system"].startswith("http")


def test_every_standard_code_has_a_verification_status() -> None:
    for entry in codes.code_table():
        assert entry["verification"] in ("confirmed", "unverified"), entry


@pytest.mark.parametrize(
    ("system", "code"),
    [
        ("icd10cm", "M84.58XA"),  # clinical-reference 7.2: [GK-verify]
        ("snomed", "392010000"),  # 7.3: third-party map [verify]
        ("cpt", "22512"),  # 7.1: only 22510/22511/22513/22514 are [S]
        ("loinc", "97909-6"),  # 7.4: ODI [S-2nd, verify]
    ],
)
def test_codes_marked_gk_verify_are_unverified(system: str, code: str) -> None:
    assert codes.verification(codes.system(system), code) == "unverified"


@pytest.mark.parametrize(("system", "code"), [("icd10cm", "M80.08XA"), ("loinc", "72514-3"), ("cpt", "22510")])
def test_confirmed_codes(system: str, code: str) -> None:
    assert codes.verification(codes.system(system), code) == "confirmed"


def test_local_code_systems_are_valid_fhir_and_served_urls() -> None:
    for cs_id, code_system in codes.code_systems().items():
        assert problems(code_system) == [], cs_id
        assert code_system["url"].endswith(f"/fhir/CodeSystem/{cs_id}")
        assert all(c["property"] == [{"code": "verification", "valueString": "local"}] for c in code_system["concept"])


def test_maps_file_has_no_unknown_system_keys() -> None:
    data = json.loads(files("vertebro.fhir.codes").joinpath("maps.json").read_text())
    used = {e["system"] for group in ("fracture_cause", "procedure") for items in data[group].values() for e in items}
    used |= {e["system"] for e in data["observation"].values()}
    assert used <= set(data["systems"])
