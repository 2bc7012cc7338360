"""The evidence registry cites primary sources: a low-grade page is only ever where something was read.

Issue 12: rules and patient pages cited docslib.org, paperexplained.cn, 78stepshealth.us, manualmachine.com and
verity.backworkai.com, some tagged "confirmed". Every rule and patient-facing number must cite the primary
publication or guideline (DOI, PMID or the issuing body's document id); a secondary page may be noted as where it
was read (``read_at``), never as the source, and never makes a source "confirmed".
"""

from __future__ import annotations

import pytest

from vertebro.clinical import assessment  # noqa: F401  (imports every rule module)
from vertebro.clinical.evidence import LOW_GRADE_HOSTS, SOURCES, Confirmation, Source, low_grade
from vertebro.clinical.rules import RULES

REPORTED_HOSTS = (
    "docslib.org",
    "paperexplained.cn",
    "78stepshealth.us",
    "manualmachine.com",
    "verity.backworkai.com",
)


def test_the_reported_hosts_are_known_to_be_low_grade() -> None:
    for host in REPORTED_HOSTS:
        assert host in LOW_GRADE_HOSTS
        assert low_grade(f"https://{host}/anything")
        assert low_grade(f"https://www.{host}/anything")
    assert not low_grade("https://www.nice.org.uk/guidance/ta279")
    assert not low_grade("doi:10.1016/j.spinee.2018.07.025")


@pytest.mark.parametrize("src", SOURCES.values(), ids=list(SOURCES))
def test_no_source_names_a_low_grade_page_as_its_primary_locator(src: Source) -> None:
    assert not low_grade(src.locator), f"{src.id}: {src.locator} is where it was read; put it in read_at"
    assert src.locator.startswith(("doi:", "http://", "https://", "vertebro:")), src.id


@pytest.mark.parametrize(
    "src", [s for s in SOURCES.values() if s.confirmation is Confirmation.CONFIRMED], ids=lambda s: s.id
)
def test_every_confirmed_source_has_a_primary_identifier(src: Source) -> None:
    assert src.identifier is not None, f"{src.id}: confirmed without a DOI, PMID, PMCID or document id"
    assert not src.locator.startswith("vertebro:"), src.id


@pytest.mark.parametrize("src", [s for s in SOURCES.values() if s.read_at], ids=lambda s: s.id)
def test_a_low_grade_reading_never_makes_a_source_confirmed(src: Source) -> None:
    read_at = src.read_at or ""
    if any(host in read_at for host in LOW_GRADE_HOSTS):
        assert src.confirmation is not Confirmation.CONFIRMED, src.id


def test_no_confirmed_rule_rests_on_a_low_grade_reading() -> None:
    for r in RULES.values():
        if r.confirmation is Confirmation.CONFIRMED:
            for sid in r.sources:
                s = SOURCES[sid]
                assert not any(host in (s.read_at or "") for host in LOW_GRADE_HOSTS), (r.id, sid)


def test_the_2018_acr_abstract_is_not_cited_as_the_2022_update() -> None:
    """The abstract "most VCFs show gradual improvement in pain over 2 to 12 weeks" is listed with the 2018 authors
    (Shah LM; Jennings JW; Kirsch CFE; Hohenwa...), so it is cited as the 2018 revision."""
    assert "acr-vcf-2022-abstract" not in SOURCES
    assert SOURCES["acr-vcf-2018"].citation.startswith("Shah LM, Jennings JW, Kirsch CFE")
    assert SOURCES["acr-vcf-2022"].citation.startswith("Khan MA, Jennings JW")


def test_readers_never_see_a_placeholder_locator() -> None:
    """A source whose primary identifier is not confirmed shows no locator to readers, rather than a placeholder."""
    assert SOURCES["postop-orders"].public_locator == ""
    assert SOURCES["nice-ta279"].public_locator == "https://www.nice.org.uk/guidance/ta279"
    assert SOURCES["hirsch-2018"].identifier == "doi:10.1016/j.spinee.2018.07.025"
