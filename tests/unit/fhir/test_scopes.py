"""SMART-style scopes: parsing (v1 and v2 syntax) and what a grant allows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.errors import InvalidInput
from vertebro.fhir.scopes import Grant, parse_scopes
from vertebro.store.staff_service import Forbidden

TYPES = st.sampled_from(["*", "Patient", "Observation", "Condition"])
CONTEXTS = st.sampled_from(["user", "system", "patient"])
V2 = st.lists(st.sampled_from("cruds"), min_size=1, unique=True).map(lambda m: "".join(c for c in "cruds" if c in m))


@given(CONTEXTS, TYPES, V2)
def test_v2_letters_decide_read_and_write(context: str, resource_type: str, modes: str) -> None:
    (scope,) = parse_scopes(f"{context}/{resource_type}.{modes}")
    assert scope.read == bool(set(modes) & {"r", "s"})
    assert scope.write == bool(set(modes) & {"c", "u", "d"})


@pytest.mark.parametrize(
    ("text", "read", "write"),
    [("user/*.read", True, False), ("user/*.write", False, True), ("user/*.*", True, True)],
)
def test_v1_modes(text: str, read: bool, write: bool) -> None:
    (scope,) = parse_scopes(text)
    assert (scope.read, scope.write) == (read, write)


@pytest.mark.parametrize("text", ["openid", "user/*.read launch", "user/patient.read", "user/*.x", "user/*.", " "])
def test_other_scopes_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_scopes(text)


@given(TYPES, st.sampled_from(["Patient", "Observation", "Condition"]), st.integers(1, 5), st.integers(1, 5))
def test_patient_scopes_cover_only_the_launch_patient(scope_type: str, asked: str, launch: int, other: int) -> None:
    grant = Grant(parse_scopes(f"patient/{scope_type}.rs"), launch)
    covers_type = scope_type in ("*", asked)
    assert grant.allows(asked, "read", launch) == covers_type
    assert grant.allows(asked, "read", other) == (covers_type and other == launch)
    assert not grant.allows(asked, "read", None)  # across patients
    assert not grant.allows(asked, "write", launch)


def test_forbidden_names_the_scopes() -> None:
    grant = Grant(parse_scopes("user/Patient.read"))
    with pytest.raises(Forbidden, match=r"\(user/Patient.read\) do not allow write of Patient across patients"):
        grant.require("Patient", "write")
    assert Grant().allows("Observation", "write", 3)  # no scopes: the role decides


@given(TYPES, V2, st.sampled_from(["Patient", "Observation"]), V2)
def test_a_scope_covers_another_when_it_grants_each_mode_on_each_type_the_other_asks_for(
    allowed_type: str, allowed_modes: str, asked_type: str, asked_modes: str
) -> None:
    (allowed,) = parse_scopes(f"user/{allowed_type}.{allowed_modes}")
    (asked,) = parse_scopes(f"user/{asked_type}.{asked_modes}")
    asked_for = [mode for mode, wanted in (("read", asked.read), ("write", asked.write)) if wanted]
    assert allowed.covers(asked) == all(allowed.grants(asked_type, mode) for mode in asked_for)
