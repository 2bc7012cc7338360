"""What a secure message may hold: a subject and a text within their bounds, no control characters; every
problem named by its field at once (decision 0035)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vertebro.messaging.service import BODY_MAX, SUBJECT_MAX, checked_text


@given(subject=st.text(max_size=200), body=st.text(max_size=4200))
def test_accepted_text_is_within_bounds_and_printable(subject: str, body: str) -> None:
    values, errors = checked_text({"subject": subject, "body": body}, with_subject=True)
    if not errors:
        assert 0 < len(values["subject"]) <= SUBJECT_MAX
        assert 0 < len(values["body"]) <= BODY_MAX
        assert "\x00" not in values["subject"] + values["body"]
    assert set(errors) <= {"subject", "body"}


def test_every_problem_is_named_at_once() -> None:
    _, errors = checked_text({"subject": " " * 3, "body": "x" * (BODY_MAX + 1)}, with_subject=True)
    assert errors == {
        "subject": "Write a subject: a few words on what your message is about",
        "body": f"The message can be at most {BODY_MAX} characters (it has {BODY_MAX + 1})",
    }


def test_line_breaks_are_kept_and_control_characters_refused() -> None:
    values, errors = checked_text({"body": "Line one\r\nLine two\tend"}, with_subject=False)
    assert errors == {}
    assert values["body"] == "Line one\r\nLine two\tend"
    _, refused = checked_text({"body": "bell\x07"}, with_subject=False)
    assert "control characters" in refused["body"]
