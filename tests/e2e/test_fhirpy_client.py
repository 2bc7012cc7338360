"""The ``fhirpy`` client (a FHIR client nobody here wrote) against a real ``vertebro serve``: reads, searches with
paging, an update with If-Match, a transaction, and a Bulk Data ``$export`` kick-off and poll (issue 13, item 6).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound

from tests.e2e.serving import serve, staffed_database
from vertebro.pathway.machine import Role

PASSWORD = "correct horse battery staple"
MRN = "http://hospital.example.org/mrn"


def _token(base: str, secret: str) -> str:
    code = pyotp.TOTP(secret).at(dt.datetime.now().timestamp())
    response = httpx.post(f"{base}/api/token", json={"username": "c.fhirpy", "password": PASSWORD, "code": code})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _observation(patient_id: str, day: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": f"2026-01-{day:02d}",
        "valueInteger": day % 10,
    }


def test_fhirpy_reads_searches_pages_updates_transacts_and_exports(tmp_path: Path) -> None:
    url, secrets = staffed_database(tmp_path, {Role.COORDINATOR: "c.fhirpy"}, PASSWORD, lambda _uow: None)
    with serve(url, VERTEBRO_EXPORT_DIR=str(tmp_path / "exports")) as base:
        authorization = f"Bearer {_token(base, secrets[Role.COORDINATOR])}"
        client = SyncFHIRClient(f"{base}/fhir", authorization=authorization)
        patient = client.resource(
            "Patient",
            identifier=[{"system": MRN, "value": "FP-1"}],
            name=[{"given": ["Ada"], "family": "Lovelace"}],
            gender="female",
            birthDate="1940-12-10",
        )
        patient.save()
        assert patient.id
        read = client.reference("Patient", patient.id).to_resource()
        assert read["identifier"] == [{"system": MRN, "value": "FP-1"}]  # the system as sent
        for day in range(1, 13):
            client.resource("Observation", **_observation(patient.id, day)).save()

        # searches: paging by next links, a count, date prefixes and the identifier with its system
        observations = client.resources("Observation").search(patient=patient.id).limit(5)
        assert len(observations.fetch()) == 5
        assert len(observations.fetch_all()) == 12
        assert observations.count() == 12
        assert len(client.resources("Observation").search(patient=patient.id, date="ge2026-01-07").fetch_all()) == 6
        by_mrn = client.resources("Patient").search(identifier=f"{MRN}|FP-1").fetch()
        assert [p.id for p in by_mrn] == [patient.id]
        assert client.resources("Patient").search(identifier="urn:other|FP-1").fetch() == []

        # an update with If-Match: unchanged, then changed, then stale (412)
        version = read["meta"]["versionId"]
        matched = SyncFHIRClient(
            f"{base}/fhir", authorization=authorization, extra_headers={"If-Match": f'W/"{version}"'}
        )
        unchanged = matched.resource("Patient", **{k: v for k, v in read.items() if k != "meta"})
        unchanged.save()
        unchanged["telecom"] = [{"system": "phone", "value": "+44 20 7946 0000"}]
        unchanged.save()  # an element vertebro does not keep: the same version, no error
        unchanged["name"] = [{"text": "Ada King"}]
        unchanged.save()
        assert unchanged["meta"]["versionId"] == str(int(version) + 1)
        with pytest.raises(MultipleResourcesFound, match="If-Match named version"):  # fhirpy's name for a 412
            unchanged.save()  # If-Match names the old version now

        # a transaction: a Patient and a Condition referring to it by its urn:uuid
        full_url = "urn:uuid:0c1e5a1e-6b8e-4c43-9d2f-5a7e0c6b1f10"
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": full_url,
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"system": MRN, "value": "FP-2"}],
                        "gender": "male",
                    },
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "resource": {
                        "resourceType": "Condition",
                        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "64859006"}]},
                        "subject": {"reference": full_url},
                    },
                    "request": {"method": "POST", "url": "Condition"},
                },
            ],
        }
        answered = client.execute("", method="post", data=bundle)
        assert [e["response"]["status"] for e in answered["entry"]] == ["201 Created", "201 Created"]

        # $export: kick-off (202, Content-Location), then poll the status until the manifest
        seen: dict[str, str] = {}

        def remember(response: Any, *args: Any, **kwargs: Any) -> None:
            seen.update({k.lower(): v for k, v in response.headers.items()})

        exporter = SyncFHIRClient(
            f"{base}/fhir",
            authorization=authorization,
            extra_headers={"Prefer": "respond-async"},
            requests_config={"hooks": {"response": [remember]}},
        )
        _, status = exporter._do_request("get", "$export", returning_status=True)
        assert status == 202
        status_url = seen["content-location"]
        manifest = None
        for _attempt in range(100):
            manifest, status = exporter._do_request("get", status_url, returning_status=True)
            if status == 200:
                break
            time.sleep(0.2)
        assert manifest is not None
        assert {o["type"] for o in manifest["output"]} >= {"Patient", "Observation", "Condition"}
