"""The /fhir REST API as FHIR R4 clients expect it (issue 13, item 4): updates, search, negotiation, headers.

Each test names the part of the FHIR R4 specification (http.html, search.html) it checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.unit.fhir.validation import problems
from vertebro.pathway.machine import Role

MRN = "http://hospital.example.org/mrn"
STRICT_PREFER = {"Prefer": "handling=strict"}
PATCH = "application/json-patch+json"


def _patient(identifier: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": MRN, "value": identifier}],
        "name": [{"text": f"Ada {identifier}"}],
        "gender": "female",
        "birthDate": "1944-02-03",
        **extra,
    }


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


def _outcome(response: Any, status: int, starts: str) -> None:
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert problems(outcome) == []
    assert outcome["issue"][0]["diagnostics"].startswith(starts), outcome


def _patient_id(client: TestClient, identifier: str) -> str:
    found = client.get("/fhir/Patient", params={"identifier": identifier}).json()
    assert found["total"] == 1, found
    return str(found["entry"][0]["resource"]["id"])


def test_an_unchanged_update_or_one_of_elements_not_kept_answers_200_with_the_same_version(
    signed_in: Callable[[Role], TestClient],
) -> None:
    client = signed_in(Role.COORDINATOR)
    created = client.post("/fhir/Patient", json=_patient("R-1")).json()
    pid = created["id"]
    same = client.put(f"/fhir/Patient/{pid}", json={**_patient("R-1"), "id": pid}, headers={"If-Match": 'W/"1"'})
    assert same.status_code == 200, same.text
    assert same.headers["etag"] == 'W/"1"'
    telecom = {**_patient("R-1"), "id": pid, "telecom": [{"system": "phone", "value": "+44 20 7946 0000"}]}
    again = client.put(f"/fhir/Patient/{pid}", json=telecom, headers={"If-Match": 'W/"1"'})
    assert again.status_code == 200, again.text
    renamed = {**_patient("R-1"), "id": pid, "name": [{"text": "Ada Renamed"}]}
    changed = client.put(f"/fhir/Patient/{pid}", json=renamed, headers={"If-Match": 'W/"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == 'W/"2"'
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": {**renamed, "id": pid},
                "request": {"method": "PUT", "url": f"Patient/{pid}", "ifMatch": 'W/"2"'},
            },
            {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        ],
    }
    answered = client.post("/fhir", json=batch)
    assert answered.status_code == 200, answered.text
    assert [e["response"]["status"] for e in answered.json()["entry"]] == ["200 OK", "200 OK"]


def test_the_identifier_system_is_kept_and_searched(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    created = client.post("/fhir/Patient", json=_patient("R-2")).json()
    assert created["identifier"] == [{"system": MRN, "value": "R-2"}]
    assert _ids(client.get("/fhir/Patient", params={"identifier": f"{MRN}|R-2"}).json()) == [created["id"]]
    assert _ids(client.get("/fhir/Patient", params={"identifier": "urn:other|R-2"}).json()) == []
    assert _ids(client.get("/fhir/Patient", params={"identifier": "R-2"}).json()) == [created["id"]]
    # FHIR search token forms: "system|" is any value of the system; "|value" is the value with no system
    assert created["id"] in _ids(client.get("/fhir/Patient", params={"identifier": f"{MRN}|", "_count": 500}).json())
    assert _ids(client.get("/fhir/Patient", params={"identifier": "|R-2"}).json()) == []


def test_paging_count_zero_and_summary_count(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("R-3")
    client = signed_in(Role.NURSE)
    pid = _patient_id(client, "R-3")
    every = client.get("/fhir/Observation", params={"patient": pid}).json()
    assert every["total"] >= 3
    seen: list[str] = []
    url: str | None = f"/fhir/Observation?patient={pid}&_count=2"
    while url:
        page = client.get(url).json()
        assert len(_ids(page)) <= 2
        seen.extend(_ids(page))
        url = _link(page, "next")
    assert seen == _ids(every)  # every match once, in order (search.html 3.1.1.5.5 paging)
    for query in ("_count=0", "_summary=count"):
        counted = client.get(f"/fhir/Observation?patient={pid}&{query}").json()
        assert counted["total"] == every["total"]
        assert "entry" not in counted  # FHIR JSON has no empty arrays (R4 json.html)
    patients = client.get("/fhir/Patient", params={"_count": 0}).json()
    assert patients["total"] >= 1
    assert "entry" not in patients
    none = client.get("/fhir/Observation", params={"patient": pid, "code": "http://loinc.org|0000-0"}).json()
    assert none["total"] == 0
    assert "entry" not in none


def _observation(pid: str, code: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": 1, "unit": "1", "system": "http://unitsofmeasure.org", "code": "1"},
    }


def test_date_prefixes_and_or_lists(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    pid = client.post("/fhir/Patient", json=_patient("R-4")).json()["id"]
    made = {
        when: client.post("/fhir/Observation", json=_observation(pid, code, when)).json()["id"]
        for code, when in (("2160-0", "1999-06-01"), ("777-3", "2024-03-05T10:00:00Z"), ("718-7", "2024-03-06"))
    }
    old, march5, march6 = made.values()

    def found(**query: str | list[str]) -> set[str]:
        return set(_ids(client.get("/fhir/Observation", params={"patient": pid, **query}).json()))

    assert found(date="ge2000-01-01") == {march5, march6}
    assert found(date="lt2000-01-01") == {old}
    assert found(date="2024-03") == {march5, march6}
    assert found(date="eq2024-03-05") == {march5}
    assert found(date="ne2024-03-05") == {old, march6}
    assert found(date="sa2024-03-05") == {march6}
    assert found(date="eb2024-03-06") == {old, march5}
    assert found(date="le2024-03-05") == {old, march5}
    assert found(date="gt2024-03-05") == {march6}
    assert found(date="ap2024-03-05") == {march5, march6}
    assert found(date="1999,2024-03-06") == {old, march6}  # a comma list is OR
    assert found(date=["ge2024", "lt2024-03-06"]) == {march5}  # repeats are AND
    assert found(code="http://loinc.org|2160-0,777-3") == {old, march5}
    assert found(code="|2160-0") == set()  # "|code": a coding with no system; these are LOINC
    assert found(code="http://loinc.org|") == {old, march5, march6}
    assert found(code="http://snomed.info/sct|2160-0") == set()
    assert _ids(client.get("/fhir/Patient", params={"identifier": "R-4", "birthdate": "ge1900"}).json()) == [pid]
    assert _ids(client.get("/fhir/Patient", params={"identifier": "R-4", "birthdate": "gt1944-02-03"}).json()) == []
    assert _ids(client.get("/fhir/Patient", params={"identifier": "R-4", "birthdate": "le1944-02"}).json()) == [pid]
    both = client.get("/fhir/Patient", params={"_id": f"{pid},999999", "gender": "female,male"}).json()
    assert _ids(both) == [pid]
    _outcome(client.get("/fhir/Observation", params={"patient": pid, "date": "xx2024"}), 400, "date='xx2024'")


def test_unsupported_parameters_are_refused_when_strict_and_left_out_of_the_self_link(
    signed_in: Callable[[Role], TestClient],
) -> None:
    client = signed_in(Role.NURSE)
    for parameter in ("_sort=name", "_revinclude=Provenance:target", "name:contains=ad", "_summary=true"):
        lenient = client.get(f"/fhir/Patient?{parameter}&gender=female")
        assert lenient.status_code == 200, lenient.text
        assert lenient.json()["link"][0]["url"].endswith("/fhir/Patient?gender=female")
        strict = client.get(f"/fhir/Patient?{parameter}", headers={"Prefer": "handling=strict"})
        _outcome(strict, 400, "")


def test_elements_keeps_the_elements_asked_for_and_marks_the_subset(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    client.post("/fhir/Patient", json=_patient("R-5"))
    found = client.get("/fhir/Patient", params={"identifier": "R-5", "_elements": "birthDate"}).json()
    resource = found["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "birthDate"}
    assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"


def test_negotiation_authentication_and_http_dates(client: TestClient, signed_in: Callable[[Role], TestClient]) -> None:
    anonymous = client.get("/fhir/Patient")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    writer = signed_in(Role.COORDINATOR)
    _outcome(writer.get("/fhir/Patient", headers={"Accept": "application/fhir+xml"}), 406, "Accept")
    _outcome(writer.get("/fhir/Patient?_format=xml"), 406, "_format")
    _outcome(writer.get("/fhir/Patient", headers={"Accept": "application/fhir+json; fhirVersion=3.0"}), 406, "Accept")
    assert writer.get("/fhir/Patient", headers={"Accept": "application/fhir+json; fhirVersion=4.0"}).status_code == 200
    xml = writer.post("/fhir/Patient", content=b"<Patient/>", headers={"Content-Type": "application/fhir+xml"})
    _outcome(xml, 415, "Content-Type")
    created = writer.post("/fhir/Patient", json=_patient("R-6"))
    modified = parsedate_to_datetime(created.headers["last-modified"])
    assert abs(modified - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    _outcome(writer.delete(f"/fhir/Patient/{created.json()['id']}"), 405, "")
    _outcome(writer.patch(f"/fhir/Patient/{created.json()['id']}", json=[]), 415, "Content-Type")  # not JSON Patch


def test_conditional_create_and_system_history(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    query = {"If-None-Exist": f"identifier={MRN}|R-7"}
    first = client.post("/fhir/Patient", json=_patient("R-7"), headers=query)
    assert first.status_code == 201, first.text
    second = client.post("/fhir/Patient", json=_patient("R-7"), headers=query)
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    history = client.get("/fhir/_history").json()
    assert history["type"] == "history"
    assert f"Patient/{first.json()['id']}" in {
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in history["entry"]
    }


def test_bundles_answer_searches_refuse_duplicate_full_urls_and_name_each_path_once(
    signed_in: Callable[[Role], TestClient],
) -> None:
    client = signed_in(Role.COORDINATOR)
    pid = client.post("/fhir/Patient", json=_patient("R-8")).json()["id"]
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": "Patient?identifier=R-8"}},
            {"request": {"method": "GET", "url": f"Observation?patient={pid}&_summary=count"}},
        ],
    }
    answered = client.post("/fhir", json=batch).json()
    found = answered["entry"][0]["resource"]
    assert found["type"] == "searchset"
    assert [e["resource"]["id"] for e in found["entry"]] == [pid]
    assert answered["entry"][1]["resource"]["total"] == 0
    same = "urn:uuid:6f1c4e0e-8f5a-4b8e-9a51-0d2b4c7f0a11"
    twice = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": same, "resource": _patient("R-9"), "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": same, "resource": _patient("R-10"), "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    _outcome(client.post("/fhir", json=twice), 400, f"Bundle.entry[1].fullUrl '{same}' is also Bundle.entry[0]'s")
    bad_url = {"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {"method": "PUT", "url": "x y"}}]}
    refused = client.post("/fhir", json=bad_url)
    _outcome(refused, 400, "Bundle.entry[0]: request.url")
    assert refused.json()["issue"][0]["expression"] == ["Bundle.entry[0].request.url"]


def _pain(pid: str, day: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "valueInteger": 5,
    }
    if day is not None:
        resource["effectiveDateTime"] = day
    return resource


def test_sort_by_date_and_id_and_refuse_other_keys(signed_in: Callable[[Role], TestClient]) -> None:
    """search.html 3.1.1.5.3 (_sort: a comma list of keys, - for descending); 3.1.1.1.2 (what is not used is
    refused under handling=strict, else left out of the self link)."""
    client = signed_in(Role.COORDINATOR)
    pid = client.post("/fhir/Patient", json=_patient("R-S1")).json()["id"]
    ids = {}
    for day in ("2026-03-02", "2026-01-15", None, "2026-02-20"):
        ids[day] = client.post("/fhir/Observation", json=_pain(pid, day)).json()["id"]
    ascending = client.get("/fhir/Observation", params={"patient": pid, "_sort": "date"}).json()
    assert _ids(ascending) == [ids["2026-01-15"], ids["2026-02-20"], ids["2026-03-02"], ids[None]]  # undated last
    assert _link(ascending, "self").endswith("_sort=date")  # type: ignore[union-attr]
    descending = client.get("/fhir/Observation", params={"patient": pid, "_sort": "-date", "_count": "2"}).json()
    assert _ids(descending) == [ids["2026-03-02"], ids["2026-02-20"]]
    following = client.get(_link(descending, "next")).json()  # type: ignore[arg-type]
    assert _ids(following) == [ids["2026-01-15"], ids[None]]  # the order holds across pages
    by_id = client.get("/fhir/Observation", params={"patient": pid, "_sort": "-_id"}).json()
    assert _ids(by_id) == sorted(ids.values(), reverse=True)
    lenient = client.get("/fhir/Observation", params={"patient": pid, "_sort": "code"})
    assert lenient.status_code == 200
    assert "_sort" not in _link(lenient.json(), "self")  # type: ignore[operator]
    strict = client.get(
        "/fhir/Observation", params={"patient": pid, "_sort": "date,code"}, headers={"Prefer": "handling=strict"}
    )
    _outcome(strict, 400, "_sort='code' is not supported here (supported: _id, date)")
    patients = client.get("/fhir/Patient", params={"_sort": "_id", "identifier": "R-S1"}).json()
    assert _ids(patients) == [pid]
    _outcome(client.get("/fhir/Patient?_sort=-birthdate", headers={"Prefer": "handling=strict"}), 400, "_sort=")


def test_revinclude_adds_the_provenance_of_the_page(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    """search.html 3.1.1.5.4 (_revinclude=Provenance:target): the Provenance whose target is on the page, as
    included entries; another path is refused under handling=strict."""
    from tests.integration.web.journey import case_in

    case_in("eligible", signed_in, stored_case, "R-P1")  # the radiologist's decision: a Provenance of the referral
    client = signed_in(Role.RADIOLOGIST)
    pid = _patient_id(client, "R-P1")
    found = client.get(
        "/fhir/ServiceRequest", params={"patient": pid, "_revinclude": "Provenance:target"}, headers=STRICT_PREFER
    ).json()
    referrals = {f"ServiceRequest/{i}" for i in _ids(found)}
    included = [e for e in found["entry"] if e["search"]["mode"] == "include"]
    assert included, found
    for entry in included:
        assert entry["resource"]["resourceType"] == "Provenance"
        assert {t["reference"] for t in entry["resource"]["target"]} & referrals
    plain = client.get("/fhir/ServiceRequest", params={"patient": pid}).json()
    assert all(e["search"]["mode"] == "match" for e in plain["entry"])
    other = client.get(
        "/fhir/ServiceRequest", params={"patient": pid, "_revinclude": "AuditEvent:entity"}, headers=STRICT_PREFER
    )
    _outcome(other, 400, "_revinclude='AuditEvent:entity' is not supported here")


def test_json_patch_with_if_match(signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]) -> None:
    """http.html 3.1.0.6 (patch): a JSON Patch applied to the current version, If-Match required (428) and checked
    (412), a patch that cannot be applied is 422, FHIRPath Patch (Parameters) is 415; DELETE is 405."""
    client = signed_in(Role.COORDINATOR)
    created = client.post("/fhir/Patient", json=_patient("R-J1"))
    pid, etag = created.json()["id"], created.headers["etag"]
    replace = [{"op": "replace", "path": "/birthDate", "value": "1944-02-04"}]
    _outcome(client.patch(f"/fhir/Patient/{pid}", json=replace, headers={"Content-Type": PATCH}), 428, "")
    patched = client.patch(f"/fhir/Patient/{pid}", json=replace, headers={"Content-Type": PATCH, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["birthDate"] == "1944-02-04"
    assert patched.headers["etag"] == 'W/"2"'
    assert client.get(f"/fhir/Patient/{pid}").json()["birthDate"] == "1944-02-04"
    stale = client.patch(f"/fhir/Patient/{pid}", json=replace, headers={"Content-Type": PATCH, "If-Match": etag})
    _outcome(stale, 412, "")
    current = {"Content-Type": PATCH, "If-Match": 'W/"2"'}
    failed_test = [{"op": "test", "path": "/gender", "value": "male"}, *replace]
    _outcome(client.patch(f"/fhir/Patient/{pid}", json=failed_test, headers=current), 422, "the JSON Patch cannot")
    new_id = [{"op": "replace", "path": "/id", "value": "999"}]
    _outcome(client.patch(f"/fhir/Patient/{pid}", json=new_id, headers=current), 422, "a JSON Patch may not")
    _outcome(client.patch(f"/fhir/Patient/{pid}", json={"op": "x"}, headers=current), 400, "a JSON Patch is")
    fhirpath = {"resourceType": "Parameters", "parameter": []}
    as_fhir = {"Content-Type": "application/fhir+json", "If-Match": 'W/"2"'}
    _outcome(client.patch(f"/fhir/Patient/{pid}", json=fhirpath, headers=as_fhir), 415, "Content-Type")
    assert client.get(f"/fhir/Patient/{pid}").headers["etag"] == 'W/"2"'  # nothing refused was written
    # a resource derived from a case record stays read-only
    stored_case("R-J2")
    other = _patient_id(client, "R-J2")
    condition = client.get("/fhir/Condition", params={"patient": other}).json()["entry"][0]["resource"]
    derived = client.patch(f"/fhir/Condition/{condition['id']}", json=replace[:0], headers=current)
    _outcome(derived, 405, "")
    _outcome(client.patch("/fhir/Patient/%C2%84", json=replace, headers=current), 400, "/fhir/Patient/")  # not an id
    _outcome(client.patch("/fhir/Procedure/p1-1", json=replace, headers=current), 405, "Procedure cannot be written")
    deleted = client.delete(f"/fhir/Patient/{pid}")
    _outcome(deleted, 405, "")
    assert "PATCH" in deleted.headers["allow"]
    assert "DELETE" not in deleted.headers["allow"]


def test_conditional_update_and_delete_answer_405_with_an_operation_outcome(
    signed_in: Callable[[Role], TestClient],
) -> None:
    """http.html 3.1.0.4.3 and 3.1.0.7.1: a server that does not support conditional update or delete says so
    with 405 (its CapabilityStatement says conditionalUpdate false, conditionalDelete not-supported)."""
    client = signed_in(Role.COORDINATOR)
    client.post("/fhir/Patient", json=_patient("R-C1"))
    update = client.put("/fhir/Patient", params={"identifier": "R-C1"}, json=_patient("R-C1"))
    _outcome(update, 405, "")
    assert "PUT" not in update.headers["allow"]
    _outcome(client.delete("/fhir/Patient", params={"identifier": "R-C1"}), 405, "")
    _outcome(client.patch("/fhir/Patient", params={"identifier": "R-C1"}, json=[]), 405, "")
    patient = client.get("/fhir/metadata").json()["rest"][0]["resource"][0]
    assert (patient["conditionalUpdate"], patient["conditionalDelete"]) == (False, "not-supported")
    assert "delete" not in {i["code"] for i in patient["interaction"]}


def test_a_summary_with_a_comma_is_a_value_not_supported(signed_in: Callable[[Role], TestClient]) -> None:
    """search.html 3.1.1.5.8: _summary takes one code; a comma in it makes no list, only a value not supported
    (ignored, or refused under handling=strict), as any other unknown _summary value."""
    client = signed_in(Role.NURSE)
    lenient = client.get("/fhir/Patient", params={"_summary": "true,count"})
    assert lenient.status_code == 200, lenient.text
    assert "_summary" not in _link(lenient.json(), "self")  # type: ignore[operator]
    strict = client.get("/fhir/Patient", params={"_summary": "true,count"}, headers=STRICT_PREFER)
    _outcome(strict, 400, "_summary=true,count is not supported here")
    assert client.get("/fhir/Patient", params={"_summary": "count"}).json()["type"] == "searchset"
