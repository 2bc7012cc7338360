"""Searches match what was typed literally: ``%``, ``_`` and ``\\`` are not wildcards (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from vertebro.pathway.machine import Role


def test_the_worklist_search_treats_wildcards_as_characters(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    for identifier in ("LK_1", "LK-2", "LK%3", "LK\\4"):
        stored_case(identifier)
    client = signed_in(Role.COORDINATOR)

    def found(query: str) -> set[str]:
        response = client.get("/", params={"q": query})
        assert response.status_code == 200, response.text
        return {i for i in ("LK_1", "LK-2", "LK%3", "LK\\4") if f"Patient {i}" in response.text}

    assert found("k_") == {"LK_1"}
    assert found("k%") == {"LK%3"}
    assert found("k\\") == {"LK\\4"}
    assert found("_") == {"LK_1"}
    assert found("lk") == {"LK_1", "LK-2", "LK%3", "LK\\4"}


def test_the_fhir_name_search_treats_wildcards_as_characters(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    for identifier in ("NM_1", "NM-2", "NM%3"):
        stored_case(identifier)
    client = signed_in(Role.NURSE)

    def found(name: str) -> set[str]:
        response = client.get("/fhir/Patient", params={"name": name})
        assert response.status_code == 200, response.text
        return {e["resource"]["identifier"][0]["value"] for e in response.json().get("entry", [])}

    assert found("nm_") == {"NM_1"}
    assert found("nm%") == {"NM%3"}
    assert found("%") == set()
    assert found("nm") == {"NM_1", "NM-2", "NM%3"}
