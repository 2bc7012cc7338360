"""Times typed into forms and shown back are the clinic's wall-clock times, whatever the server's zone (H120)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.dose import DoseValues
from vertebro.dicom.chart import prefill
from vertebro.dicom.service import ModalityReport
from vertebro.store.base import clinic_today, utc_now
from vertebro.web.chart.care_forms import _local
from vertebro.web.forms import FormData

ZONES = ("Europe/Berlin", "Australia/Sydney", "America/Los_Angeles", "Pacific/Kiritimati", "Europe/London")


def test_a_typed_time_is_the_clinics_wall_clock_time() -> None:
    form = FormData({"started_at": "2026-12-04T23:30"}, {}, "Europe/Berlin")
    moment = form.moment("started_at")
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 12, 4, 22, 30, tzinfo=dt.UTC)


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.UTC)
    ),
    st.sampled_from(ZONES),
)
def test_a_stored_time_shown_in_a_form_reads_back_unchanged(moment: dt.datetime, zone: str) -> None:
    """Saving a draft again never shifts its times by the server's offset (outside the clock change's lost hour)."""
    shown = _local(moment, zone)
    read = FormData({"t": shown}, {}, zone).moment("t")
    if moment.astimezone(ZoneInfo(zone)).fold == 0:  # the repeated hour of a clock change is read as its first
        assert read.astimezone(dt.UTC) == moment


def test_the_modalitys_times_are_offered_in_the_clinics_zone() -> None:
    report = ModalityReport(
        status="COMPLETED",
        started_at=dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC),
        ended_at=dt.datetime(2026, 12, 5, 0, 10, tzinfo=dt.UTC),
        dose=DoseValues(),
        dose_source=None,
        reports=0,
    )
    values = prefill(report, "Europe/Berlin")
    assert values["started_at"] == "2026-12-05T00:30"
    assert values["ended_at"] == "2026-12-05T01:10"


def test_today_is_the_clinics_date() -> None:
    for zone in ZONES:
        before = utc_now()
        today = clinic_today(zone)
        after = utc_now()
        assert today in {before.astimezone(ZoneInfo(zone)).date(), after.astimezone(ZoneInfo(zone)).date()}
