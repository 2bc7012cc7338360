"""The calendar file's text rules (RFC 5545 3.1 folding, 3.3.11 TEXT escaping, 3.3.5 UTC times), as properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from vertebro.store.portal.ical import CalendarEvent, calendar_text, escaped, folded, utc_stamp


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300))
def test_escaping_round_trips_and_leaves_no_bare_separator(text: str) -> None:
    value = escaped(text)
    assert "\n" not in value
    read = icalendar.Event.from_ical(f"BEGIN:VEVENT\r\nSUMMARY:{value}\r\nEND:VEVENT\r\n")  # the reader's side
    assert read["SUMMARY"] == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=400))
def test_folded_lines_are_at_most_75_octets_and_unfold_to_the_line(line: str) -> None:
    text = folded(line)
    assert all(len(part.encode()) <= 75 for part in text.split("\r\n"))
    assert text.replace("\r\n ", "") == line


@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 2),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-5))]),
    )
)
def test_times_are_written_in_utc(moment: dt.datetime) -> None:
    stamp = utc_stamp(moment)
    assert stamp.endswith("Z")
    parsed = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert parsed == moment.replace(microsecond=0)


def test_a_cancellation_keeps_the_uid_and_has_no_alarm() -> None:
    start = dt.datetime(2026, 3, 29, 9, 0, tzinfo=dt.UTC)
    event = CalendarEvent("b-1@x", start, start + dt.timedelta(hours=1), "Hospital appointment", "Room 1", "Arrive")
    booked = calendar_text(event, stamp=start)
    cancelled = calendar_text(dataclasses.replace(event, sequence=1, cancelled=True), stamp=start)
    assert "UID:b-1@x\r\n" in booked
    assert "UID:b-1@x\r\n" in cancelled
    assert "BEGIN:VALARM" in booked
    assert "BEGIN:VALARM" not in cancelled
    assert "METHOD:CANCEL\r\n" in cancelled
    assert "STATUS:CANCELLED\r\n" in cancelled


@given(st.text(max_size=120))
def test_the_organizer_name_stays_one_quoted_parameter_whatever_the_clinic_is_called(name: str) -> None:
    """RFC 5545 3.2: a quoted parameter value holds no double quote or control character, so ':' and ';' in the
    clinic's name cannot end it early; an e-mailed file is an iTIP REQUEST with the patient as attendee."""
    start = dt.datetime(2026, 3, 29, 9, 0, tzinfo=dt.UTC)
    event = CalendarEvent("b-1@x", start, start + dt.timedelta(hours=1), "Hospital appointment", "Room 1", "Arrive")
    sent = calendar_text(
        dataclasses.replace(event, organizer=(name, "team@h.example"), attendee="p@q.example"), stamp=start
    )
    lines = sent.replace("\r\n ", "").split("\r\n")
    assert "METHOD:REQUEST" in lines
    (organizer,) = [line for line in lines if line.startswith("ORGANIZER")]
    assert re.fullmatch(r'ORGANIZER;CN="[^"\x00-\x1f\x7f]*":mailto:team@h\.example', organizer)
    assert "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:p@q.example" in lines
    plain = calendar_text(event, stamp=start)
    assert "METHOD:PUBLISH\r\n" in plain  # the portal's download: a file to import, no organizer
    assert "ORGANIZER" not in plain
