"""The allergy matcher: by SNOMED CT code, by whole-word synonyms, and the same answer for every reader."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.clinical.builders import assessed, category, make_case
from vertebro.clinical.allergens import (
    SNOMED,
    SUBSTANCE_CODES,
    SYNONYMS,
    Allergen,
    allergy_labels,
    classify,
    normalized,
)
from vertebro.clinical.contraindications import Contra, present
from vertebro.clinical.evidence import Confirmation
from vertebro.clinical.facts import CodedAllergy
from vertebro.clinical.findings import case_findings
from vertebro.clinical.policy import DEFAULT_POLICY


@pytest.mark.rule("allergy.matching")
@pytest.mark.parametrize(
    ("text", "allergen"),
    [
        ("methacrylate", Allergen.CEMENT),
        ("Methyl methacrylate", Allergen.CEMENT),
        ("acrylic", Allergen.CEMENT),
        ("Acrylic nails", Allergen.CEMENT),
        ("PMMA bone cement", Allergen.CEMENT),
        ("polymethylmethacrylate", Allergen.CEMENT),
        ("barium sulphate", Allergen.BARIUM),
        ("X-ray dye", Allergen.IODINATED_CONTRAST),
        ("xray dye", Allergen.IODINATED_CONTRAST),
        ("CT dye", Allergen.IODINATED_CONTRAST),
        ("contrast dye (x-ray contrast)", Allergen.IODINATED_CONTRAST),
        ("Iodine", Allergen.IODINATED_CONTRAST),
        ("Omnipaque", Allergen.IODINATED_CONTRAST),
        ("iohexol", Allergen.IODINATED_CONTRAST),
        ("latex", Allergen.LATEX),
        ("natural rubber latex gloves", Allergen.LATEX),
        ("lidocaine", Allergen.LOCAL_ANAESTHETIC),
        ("NKDA", Allergen.NONE_KNOWN),
        ("No known allergies", Allergen.NONE_KNOWN),
        ("none", Allergen.NONE_KNOWN),
        ("penicillin", Allergen.OTHER),
        ("hair dye", Allergen.OTHER),
        ("gadolinium contrast (MRI)", Allergen.OTHER),
        ("cementum-free dental work", Allergen.OTHER),
        ("dermatitis from plexiglas frames? unsure", Allergen.OTHER),
    ],
)
def test_synonyms_are_matched_as_whole_words(text: str, allergen: Allergen) -> None:
    """CMS LCD: "allergy to bone cement or opacification/contrast agents"; Kyphon HV-R IFU: the cement is PMMA
    with a barium sulfate opacifier. Every name of these (methacrylate, acrylic, X-ray dye) is recognised; a word
    inside another word ("cementum", "hair dye") is not."""
    assert classify(text).allergen is allergen


@pytest.mark.rule("allergy.matching")
@pytest.mark.parametrize(
    ("code", "allergen"),
    [
        ("427811002", Allergen.CEMENT),
        ("25419009", Allergen.BARIUM),
        ("426722004", Allergen.IODINATED_CONTRAST),
        ("1348252003", Allergen.IODINATED_CONTRAST),
        ("111088007", Allergen.LATEX),
        ("716186003", Allergen.NONE_KNOWN),
    ],
)
def test_snomed_codes_are_matched_before_the_text(code: str, allergen: Allergen) -> None:
    """SNOMED CT International Edition (November 2024 release notes): 426722004 |Iodinated contrast media
    (substance)|; the code decides even when the text says nothing the synonym list knows."""
    entry = CodedAllergy(code=code, system=SNOMED, text="reaction in 2019")
    assert classify(entry).allergen is allergen
    assert classify(entry).matched_by == f"code {code}"


@pytest.mark.rule("allergy.matching")
def test_an_unknown_code_falls_back_to_the_text_and_another_system_is_not_read_as_snomed() -> None:
    """Codes are matched in their own system only; the text is always read as well."""
    assert classify(CodedAllergy(code="999", system=SNOMED, text="X-ray dye")).allergen is Allergen.IODINATED_CONTRAST
    assert classify(CodedAllergy(code="426722004", system="http://example.org", text="penicillin")).allergen is (
        Allergen.OTHER
    )
    assert classify(CodedAllergy(code="426722004", system=SNOMED)).label == "Iodinated contrast media (substance)"


def test_every_code_says_how_firmly_it_was_confirmed() -> None:
    """The project marks what was not checked in a primary document: each code carries its confirmation."""
    for code in SUBSTANCE_CODES.values():
        assert code.confirmation in (Confirmation.CONFIRMED, Confirmation.SECONDARY, Confirmation.UNVERIFIED)
        assert code.read_in
    assert {c.allergen for c in SUBSTANCE_CODES.values()} >= {
        Allergen.CEMENT,
        Allergen.BARIUM,
        Allergen.IODINATED_CONTRAST,
        Allergen.LATEX,
    }


@pytest.mark.rule("allergy.matching")
@pytest.mark.parametrize("text", ["methacrylate", "acrylic", "PMMA", "barium", "X-ray dye", "iohexol", "latex"])
def test_the_screen_and_the_preparation_list_agree(text: str) -> None:
    """One matcher for every reader: what the contraindication screen calls a cement or contrast allergy, the
    preparation list plans for (the two disagreed on "methacrylate" before)."""
    case = make_case({"allergies": [text]})
    found = present(case, case_findings(case), DEFAULT_POLICY)
    allergen = classify(text).allergen
    a = assessed({"allergies": [text]})
    items = [i.instruction for i in a.preparation.items if i.kind == "allergy"]
    assert len(items) == 1
    if allergen in (Allergen.CEMENT, Allergen.BARIUM):
        assert Contra.CEMENT_ALLERGY in found
        assert "cement or opacifier" in items[0]
    elif allergen is Allergen.IODINATED_CONTRAST:
        assert Contra.CONTRAST_ALLERGY in found
        assert "contrast" in items[0]
    else:
        assert Contra.CEMENT_ALLERGY not in found
        assert Contra.CONTRAST_ALLERGY not in found


@pytest.mark.rule("general.cement_allergy")
def test_acrylic_allergy_is_a_cement_contraindication() -> None:
    """CIRSE 2017: "allergy to the bone cement or its opacifier" is a contraindication - "acrylic" is PMMA."""
    assert category(assessed({"allergies": ["acrylic"]}), "acr") == "contraindicated"


@pytest.mark.rule("allergy.matching")
def test_no_known_allergy_records_the_review_and_is_no_allergy() -> None:
    """A "no known allergy" entry (SNOMED CT 716186003) means the list was reviewed and is empty."""
    for entry in ("NKDA", CodedAllergy(code="716186003", system=SNOMED)):
        a = assessed({"allergies": [entry if isinstance(entry, str) else entry.model_dump()]})
        assert not [g for g in a.unrecorded if g.path == "allergies"]
        assert not [i for i in a.preparation.items if i.kind == "allergy"]
        assert allergy_labels(make_case({"allergies": ["NKDA"]}).allergies) == ()


@given(st.text(max_size=40))
def test_the_matcher_answers_every_text(text: str) -> None:
    """Any text is classified (never an error); the same words always give the same answer."""
    first = classify(text) if text.strip() else None
    if first is not None:
        assert first.allergen in Allergen
        assert classify(text) == first


@given(st.sampled_from([(a, s) for a, synonyms in SYNONYMS for s in synonyms]), st.sampled_from(["", "severe ", "? "]))
def test_every_listed_synonym_is_recognised_inside_a_sentence(pair: tuple[Allergen, str], prefix: str) -> None:
    """Each synonym in the list is matched as a whole word within a longer entry."""
    allergen, synonym = pair
    assert classify(f"{prefix}{synonym} (rash)").allergen is allergen
    assert normalized(synonym) == synonym
