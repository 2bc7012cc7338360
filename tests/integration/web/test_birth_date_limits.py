"""The staff referral form and the patient's request take the same dates of birth (one rule,
``clinical.facts.birth_date_in_range``: not in the future, at most 120 whole years old, the bound of the rules' age),
over HTTP on SQLite and PostgreSQL. They differed: the portal refused patients in the weeks before their 121st
birthday whom the staff form took."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.integration.web.conftest import csrf
from tests.integration.web.portal_helpers import request_form
from tests.integration.web.test_referrals import GOOD
from vertebro.clinical.clock import DEFAULT_TIME_ZONE
from vertebro.clinical.facts import age_on
from vertebro.pathway.machine import Role
from vertebro.store.base import clinic_today


def _limits() -> tuple[dt.date, dt.date]:
    """The oldest date of birth taken today in the clinic (120 years old) and the day before it (121 today)."""
    today = clinic_today(DEFAULT_TIME_ZONE)
    try:
        turns_121 = today.replace(year=today.year - 121)
    except ValueError:  # 29 February: the birthday of someone born on 1 March of a common year
        turns_121 = dt.date(today.year - 121, 3, 1)
    oldest = turns_121 + dt.timedelta(days=1)
    assert (age_on(oldest, today), age_on(turns_121, today)) == (120, 121)
    return oldest, turns_121


def test_the_oldest_date_of_birth_is_the_same_on_both_forms(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    oldest, too_old = _limits()
    taken = portal_factory().post("/portal/request", data=request_form(birth_date=oldest.isoformat()))
    assert taken.status_code == 200, re.findall(r'<p class="error"[^>]*>[^<]*', taken.text)
    refused = portal_factory().post("/portal/request", data=request_form(birth_date=too_old.isoformat()))
    assert refused.status_code == 422
    assert "check the year of your date of birth" in refused.text

    staff = signed_in(Role.COORDINATOR)
    form = {**GOOD, "identifier": "OLDEST-1", "birth_date": oldest.isoformat()}
    created = staff.post("/referrals", data={**form, "csrf_token": csrf(staff, "/referrals/new")})
    assert created.status_code == 303, re.findall(r'<p class="error"[^>]*>[^<]*', created.text)
    form = {**GOOD, "identifier": "OLDEST-2", "birth_date": too_old.isoformat()}
    refused = staff.post("/referrals", data={**form, "csrf_token": csrf(staff, "/referrals/new")})
    assert refused.status_code == 422
    assert "more than 120 years ago" in refused.text
