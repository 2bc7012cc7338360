"""HTML form input, parsed strictly: each helper returns a typed value or raises InvalidInput naming the field.

Browsers send every field as text; these helpers decide what text is acceptable (an empty field is
"not given", "on" is a ticked box) and never guess: "abc" is not a number, 11 is not a pain score.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from fastapi import Request

from vertebro import errors
from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.errors import InvalidInput
from vertebro.ids import record_id
from vertebro.web.deps import current_policy

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
T = TypeVar("T")
P = ParamSpec("P")
PHONE_DIGITS = 6  # the fewest digits of a whole phone number, with its area code


def email_shaped(text: str) -> bool:
    """Return whether a patient's contact address is shaped like an e-mail address: an "@", a dot after it, no space.

    The portal's request and the staff referral form accept the same addresses; the clinic's own addresses are
    checked more strictly (:func:`vertebro.clinical.clinic.plausible_email`).
    """
    return "@" in text and "." in text.split("@")[-1] and " " not in text


def enough_phone_digits(text: str) -> bool:
    """Return whether a phone number has the digits of a whole number with its area code (``PHONE_DIGITS``)."""
    return sum(c.isdigit() for c in text) >= PHONE_DIGITS


class InvalidFields(errors.InvalidFields):
    """Several fields of one form are wrong: every problem, by field, so the page can list them all at once.

    The one error type of several problems (:class:`vertebro.errors.InvalidFields`), built from the problems alone.
    """

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(errors.listed(problems), problems)


@dataclass(frozen=True, slots=True)
class FormData:
    """The submitted form, kept as text so it can be shown again after a mistake.

    ``zone_name`` is the clinic's time zone: a date and time typed without an offset is the clinic's wall-clock time.
    """

    raw: dict[str, str]
    lists: dict[str, list[str]]
    zone_name: str = DEFAULT_TIME_ZONE

    def text(self, name: str, max_length: int) -> str | None:
        """Return trimmed text, or None when empty."""
        value = self.raw.get(name, "").strip()
        if len(value) > max_length:
            raise InvalidInput(f"at most {max_length} characters", field=name)
        return value or None

    def required_text(self, name: str, max_length: int) -> str:
        """Return non-empty trimmed text."""
        value = self.text(name, max_length)
        if value is None:
            raise InvalidInput("this field is required", field=name)
        return value

    def all(self, name: str) -> list[str]:
        """Return every value of a repeated field."""
        return [v for v in self.lists.get(name, []) if v.strip()]

    def record_ids(self, name: str) -> list[int]:
        """Return every value of a repeated field as a record id (e.g. the ticked boxes of a list of requests)."""
        found = [record_id(value.strip()) for value in self.all(name)]
        if None in found:
            raise InvalidInput("not a record of this case: reload the page", field=name)
        return [value for value in found if value is not None]

    def checked(self, name: str) -> bool:
        """Return whether a checkbox is ticked."""
        return self.raw.get(name) in ("on", "true", "1", "yes")

    def tristate(self, name: str) -> bool | None:
        """Return yes / no / not recorded from a select with values yes, no and empty."""
        value = self.raw.get(name, "").strip()
        if value == "":
            return None
        if value in ("yes", "no"):
            return value == "yes"
        raise InvalidInput("choose yes, no or not recorded", field=name)

    def choice(self, name: str, options: Sequence[str]) -> str:
        """Return one of the allowed options."""
        value = self.raw.get(name, "").strip()
        if value not in options:
            raise InvalidInput(f"choose one of: {', '.join(options)}", field=name)
        return value

    def number(self, name: str, low: float, high: float) -> float | None:
        """Return a number within [low, high], or None when empty."""
        value = self.raw.get(name, "").strip().replace(",", ".")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(f"{value!r} is not a number", field=name) from None
        if not low <= number <= high:
            raise InvalidInput(f"must be between {low:g} and {high:g}", field=name)
        return number

    def required_number(self, name: str, low: float, high: float) -> float:
        """Return a required number within [low, high]."""
        number = self.number(name, low, high)
        if number is None:
            raise InvalidInput("this field is required", field=name)
        return number

    def integer(self, name: str, low: int, high: int) -> int | None:
        """Return a whole number within [low, high], or None when empty."""
        value = self.raw.get(name, "").strip()
        if not value:
            return None
        if not _WHOLE_NUMBER.fullmatch(value):
            raise InvalidInput(f"{value!r} is not a whole number", field=name)
        number = int(value)
        if not low <= number <= high:
            raise InvalidInput(f"must be between {low} and {high}", field=name)
        return number

    def required_integer(self, name: str, low: int, high: int) -> int:
        """Return a required whole number within [low, high]."""
        number = self.integer(name, low, high)
        if number is None:
            raise InvalidInput("this field is required", field=name)
        return number

    def day(self, name: str) -> dt.date:
        """Return a date written as YYYY-MM-DD."""
        try:
            return dt.date.fromisoformat(self.required_text(name, 10))
        except ValueError:
            raise InvalidInput("write the date as YYYY-MM-DD", field=name) from None

    def optional_moment(self, name: str) -> dt.datetime | None:
        """Return a clinic date and time (YYYY-MM-DDTHH:MM) as an aware datetime, or None when empty.

        Without an offset the time is the clinic's wall-clock time (``zone_name``), never the server's.
        """
        value = self.text(name, 32)
        if value is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput("write the time as YYYY-MM-DD HH:MM", field=name) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone_of(self.zone_name))

    def moment(self, name: str) -> dt.datetime:
        """Return a required local date and time as an aware datetime."""
        moment = self.optional_moment(name)
        if moment is None:
            raise InvalidInput("this field is required", field=name)
        return moment

    def version(self) -> int | None:
        """Return the record version the form was rendered with (for conflict detection)."""
        return self.integer("version", 0, 2**31)


async def form_data(request: Request) -> FormData:
    """Return the request's form fields (single values and repeated ones)."""
    form = await request.form()
    raw: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            raw.setdefault(key, value)
            lists.setdefault(key, []).append(value)
    return FormData(raw, lists, current_policy(request.app).time_zone)
