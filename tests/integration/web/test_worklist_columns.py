"""The worklist's columns coordinators sort by, server-side sorting by a whitelisted key, and the search by
date of birth and by "surname forename" (issue 15 item 4), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import new_patient
from tests.unit.clinical.builders import case_data
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

Signed = Callable[[Role], TestClient]
Stored = Callable[..., int]


def _store(stored_case: Stored, identifier: str, name: str, born: str, onset_weeks: float) -> int:
    return stored_case(
        identifier,
        patient={"identifier": identifier, "name": name, "age": 74, "sex": "female", "birth_date": born},
        fractures=[{**case_data()["fractures"][0], "onset_weeks": onset_weeks}],
    )


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _order(html: str, names: list[str]) -> list[str]:
    return [next(n for n in names if n in row) for row in _rows(html) if any(n in row for n in names)]


def test_the_worklist_shows_birth_date_request_date_source_intake_and_fracture_age(
    signed_in: Signed, stored_case: Stored, session_factory: sessionmaker[Session]
) -> None:
    case_id = _store(stored_case, "WL-1", "Anna Smith", "1950-03-14", 3)
    with UnitOfWork(session_factory) as uow:
        uow.workflows.mark_channel([case_id], "portal")
        uow.commit()
    page = signed_in(Role.COORDINATOR).get("/?q=Anna")
    assert page.status_code == 200
    (row,) = _rows(page.text)
    assert "1950-03-14" in row
    assert "Patient portal" in row
    assert "not started" in row  # the intake questionnaire
    assert "3 week(s)" in row
    for heading in ("Date of birth", "Requested", "Source", "Intake", "Newest fracture"):
        assert f">{heading}" in page.text


def test_the_default_profile_column_names_the_profile_beside_its_verdict(
    signed_in: Signed, stored_case: Stored
) -> None:
    _store(stored_case, "WL-2", "Berta Jones", "1941-07-02", 4)
    (row,) = _rows(signed_in(Role.NURSE).get("/?q=Berta").text)
    assert re.search(r'<abbr title="ACR Appropriateness Criteria[^"]*">ACR</abbr>: <span class="cat', row), row


def test_columns_sort_on_the_server_and_announce_their_order(signed_in: Signed, stored_case: Stored) -> None:
    _store(stored_case, "WL-3", "Cora Older", "1931-01-01", 10)
    _store(stored_case, "WL-4", "Dora Younger", "1961-01-01", 1)
    client = signed_in(Role.COORDINATOR)
    names = ["Cora Older", "Dora Younger"]
    oldest_first = client.get("/?sort=birth_date&order=asc")
    assert _order(oldest_first.text, names) == names
    assert re.search(r'aria-sort="ascending"><a href="[^"]*sort=birth_date&amp;order=desc"', oldest_first.text)
    assert _order(client.get("/?sort=birth_date&order=desc").text, names) == names[::-1]
    assert _order(client.get("/?sort=fracture_age&order=asc").text, names) == names[::-1]
    # an unknown key is not SQL: the default order (latest update first) is used
    fallback = client.get("/?sort=name;drop table patients")
    assert fallback.status_code == 200
    assert 'aria-sort="descending"><a href="/?sort=updated&amp;order=asc"' in fallback.text


def test_search_finds_a_date_of_birth_in_either_format_and_names_in_either_order(
    signed_in: Signed, stored_case: Stored
) -> None:
    _store(stored_case, "WL-5", "Edith Marsh", "1948-11-05", 2)
    _store(stored_case, "WL-6", "Frida Marsh", "1949-11-05", 2)
    client = signed_in(Role.COORDINATOR)
    for query in ("1948-11-05", "05/11/1948", "Marsh Edith", "edith marsh", "WL-5"):
        rows = _rows(client.get("/", params={"q": query}).text)
        assert len(rows) == 1, query
        assert "Edith Marsh" in rows[0], query
    assert len(_rows(client.get("/", params={"q": "Marsh"}).text)) == 2
    assert "No cases." in client.get("/", params={"q": "31/02/1948"}).text  # not a date: a text search


def test_a_portal_request_is_listed_with_the_portal_as_its_source(
    portal_factory: Callable[..., TestClient], signed_in: Signed
) -> None:
    new_patient(portal_factory())
    (row,) = _rows(signed_in(Role.COORDINATOR).get("/", params={"q": "Ruth Example"}).text)
    assert "Patient portal" in row
    assert "1946-05-02" in row
