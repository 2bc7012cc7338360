"""The calendar offers a case's starts only once the case can be booked (prepared): a requested, screened or eligible
case is shown with its feasibility, but no start is a "Book" button that the server then refuses ("the case is
requested; this step needs it to be prepared"), and the page says why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.integration.web.test_booking_safety import prepared
from vertebro.pathway.machine import Role


def test_a_case_not_yet_prepared_is_not_offered_a_start_to_book(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    coordinator = signed_in(Role.COORDINATOR)
    start = dt.date.today() + dt.timedelta(days=7)
    waiting = stored_case("STAGE-1")  # requested: never screened, accepted or prepared
    feed = coordinator.get(f"/calendar/slots.json?start={start}&days=7&case_id={waiting}")
    assert feed.status_code == 200, feed.text
    assert feed.json()["can_book"] is False
    page = coordinator.get(f"/calendar?case_id={waiting}&start={start}")
    assert page.status_code == 200, page.text
    assert f'action="/cases/{waiting}/booking"' not in page.text
    assert 'data-can-book="no"' in page.text
    assert "is requested: it can be booked once its preparation is complete" in page.text

    ready = prepared(signed_in, stored_case, "STAGE-2")
    feed = coordinator.get(f"/calendar/slots.json?start={start}&days=7&case_id={ready}")
    assert feed.json()["can_book"] is True
    assert f'action="/cases/{ready}/booking"' in coordinator.get(f"/calendar?case_id={ready}&start={start}").text
