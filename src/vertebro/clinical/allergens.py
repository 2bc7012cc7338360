"""The allergy matcher: which recorded allergies concern the procedure, by code and by a synonym list.

One matcher for every reader (the contraindication screen, the preparation list, the checklist), so
they can never disagree again. An allergy is either free text ("X-ray dye") or a coded entry
(``{"code", "system", "text"}``); a SNOMED CT code is matched first, then the text by whole words
against the synonym list below (so "methacrylate" and "acrylic" are the cement, "X-ray dye" is
iodinated contrast, and "hair dye" is nothing to do with either). Rule ``allergy.matching``.

Each SNOMED CT code carries the confirmation of the material it was read in, as the evidence
registry does: ``confirmed`` when read in SNOMED International's own release notes, ``secondary``
when read only in a published value set or implementation guide that uses it. No code here was
checked with a terminology server; a clinic should ``$lookup`` them before relying on the codes alone
(the text synonyms are always applied as well).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.evidence import Confirmation
from vertebro.clinical.facts import AllergyEntry, CodedAllergy
from vertebro.clinical.rules import rule

SNOMED = "http://snomed.info/sct"

R_MATCHING = rule(
    "allergy.matching",
    "An allergy concerns the procedure when its SNOMED CT substance code, or a whole word or phrase of "
    "its text, names the bone cement (PMMA, methyl methacrylate, acrylic), the cement's barium opacifier, "
    "iodinated contrast (including 'X-ray dye') or latex; a 'no known allergy' entry records the review.",
    "snomed-ct-substances",
    "kyphon-hvr-ifu",
)


class Allergen(StrEnum):
    """What an allergy means for vertebral augmentation."""

    CEMENT = "cement"  # PMMA bone cement, its monomer (methyl methacrylate)
    BARIUM = "barium"  # the cement's radiopaque opacifier (barium sulfate)
    IODINATED_CONTRAST = "iodinated_contrast"
    LATEX = "latex"
    LOCAL_ANAESTHETIC = "local_anaesthetic"
    OTHER = "other"  # recorded, not specific to the procedure
    NONE_KNOWN = "none_known"  # "no known allergy": the list was reviewed and is empty


@dataclass(frozen=True, slots=True)
class SubstanceCode:
    """One SNOMED CT concept the matcher recognises, with how firmly the code was confirmed."""

    code: str
    display: str
    allergen: Allergen
    confirmation: Confirmation
    read_in: str


_S = Confirmation.CONFIRMED
_S2 = Confirmation.SECONDARY
_RELEASE_NOTES = "SNOMED CT International Edition release notes, November 2024 (section 2.6.1, contrast media)"
_CID12 = "DICOM PS3.16 CID 12 Imaging Contrast Agent, as a FHIR value set (bvdh/dicom-terminology-in-fhir)"

SUBSTANCE_CODES: dict[str, SubstanceCode] = {
    c.code: c
    for c in (
        SubstanceCode(
            "427811002",
            "Polymethyl methacrylate (substance)",
            Allergen.CEMENT,
            _S2,
            "a published FHIR value set of specimen materials (not yet checked on a terminology server)",
        ),
        SubstanceCode("25419009", "Barium sulfate (substance)", Allergen.BARIUM, _S2, _CID12),
        SubstanceCode(
            "1348316000",
            "Barium-based radiographic imaging contrast media (substance)",
            Allergen.BARIUM,
            _S,
            _RELEASE_NOTES,
        ),
        SubstanceCode(
            "426722004", "Iodinated contrast media (substance)", Allergen.IODINATED_CONTRAST, _S, _RELEASE_NOTES
        ),
        SubstanceCode(
            "1348252003",
            "Iodinated radiographic imaging contrast media (substance)",
            Allergen.IODINATED_CONTRAST,
            _S,
            _RELEASE_NOTES,
        ),
        SubstanceCode(
            "1340006004",
            "Ionic iodinated radiographic imaging contrast media (substance)",
            Allergen.IODINATED_CONTRAST,
            _S,
            _RELEASE_NOTES,
        ),
        SubstanceCode(
            "1340009006",
            "Non-ionic iodinated radiographic imaging contrast media (substance)",
            Allergen.IODINATED_CONTRAST,
            _S,
            _RELEASE_NOTES,
        ),
        SubstanceCode("385420005", "Contrast media (substance)", Allergen.IODINATED_CONTRAST, _S, _RELEASE_NOTES),
        SubstanceCode("109218004", "Iohexol (substance)", Allergen.IODINATED_CONTRAST, _S2, _CID12),
        SubstanceCode("109219007", "Iopamidol (substance)", Allergen.IODINATED_CONTRAST, _S2, _CID12),
        SubstanceCode("353962003", "Iodixanol (substance)", Allergen.IODINATED_CONTRAST, _S2, _CID12),
        SubstanceCode(
            "111088007",
            "Latex (substance)",
            Allergen.LATEX,
            _S2,
            "an HL7 clinical-guideline FHIR example (cqframework/cpg-example-anthrax)",
        ),
        SubstanceCode(
            "716186003",
            "No known allergy (situation)",
            Allergen.NONE_KNOWN,
            _S2,
            "FHIR implementation guides recording an explicit 'no known allergies'",
        ),
    )
}

# Whole words or phrases, compared after lower-casing and turning punctuation into spaces
# ("X-ray dye" -> "x ray dye"). Order matters: the first allergen whose synonym appears wins, so the
# specific kinds come before the generic ones. Tested one by one in tests/unit/clinical/test_allergens.py.
SYNONYMS: tuple[tuple[Allergen, tuple[str, ...]], ...] = (
    (
        Allergen.CEMENT,
        (
            "pmma",
            "polymethyl methacrylate",
            "polymethylmethacrylate",
            "poly methyl methacrylate",
            "methyl methacrylate",
            "methylmethacrylate",
            "methacrylate",
            "methacrylates",
            "mma",
            "acrylic",
            "acrylics",
            "acrylate",
            "acrylates",
            "bone cement",
            "cement",
            "palacos",
        ),
    ),
    (Allergen.BARIUM, ("barium", "barium sulfate", "barium sulphate")),
    (
        Allergen.IODINATED_CONTRAST,
        (
            "contrast",
            "contrast dye",
            "contrast media",
            "contrast medium",
            "radiocontrast",
            "x ray dye",
            "xray dye",
            "ct dye",
            "iv dye",
            "imaging dye",
            "radiology dye",
            "iodine",
            "iodinated",
            "iohexol",
            "omnipaque",
            "iopamidol",
            "isovue",
            "iodixanol",
            "visipaque",
            "iopromide",
            "ultravist",
            "ioversol",
            "optiray",
            "iomeprol",
            "iomeron",
        ),
    ),
    (Allergen.LATEX, ("latex", "natural rubber", "rubber")),
    (
        Allergen.LOCAL_ANAESTHETIC,
        (
            "lidocaine",
            "lignocaine",
            "xylocaine",
            "bupivacaine",
            "marcaine",
            "levobupivacaine",
            "ropivacaine",
            "local anaesthetic",
            "local anesthetic",
            "anaesthetic",
            "anesthetic",
        ),
    ),
)
# Contrast for MRI is not the iodinated contrast used under fluoroscopy.
NOT_IODINATED = ("gadolinium", "gadobutrol", "gadoterate", "mri contrast", "mr contrast")
NONE_KNOWN_TEXTS = frozenset(
    {
        "nka",
        "nkda",
        "nkma",
        "none",
        "none known",
        "nil",
        "nil known",
        "no allergies",
        "no allergy",
        "no known allergies",
        "no known allergy",
        "no known drug allergies",
        "no known drug allergy",
    }
)

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalized(text: str) -> str:
    """Return text lower-cased with every run of punctuation or space turned into one space."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def _has_phrase(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


@dataclass(frozen=True, slots=True)
class AllergyMatch:
    """One recorded allergy, what it means for the procedure, and how it was recognised."""

    label: str
    allergen: Allergen
    matched_by: str  # "code 426722004", "synonym 'x ray dye'", or "no match"


def label_of(entry: AllergyEntry) -> str:
    """Return the words to show for an allergy: its text, else the code's display, else the code."""
    if isinstance(entry, str):
        return entry
    if entry.text:
        return entry.text
    known = SUBSTANCE_CODES.get(entry.code) if entry.system == SNOMED else None
    return known.display if known else f"{entry.system}|{entry.code}"


def _by_text(text: str) -> tuple[Allergen, str]:
    words = normalized(text)
    if words in NONE_KNOWN_TEXTS:
        return Allergen.NONE_KNOWN, f"synonym {words!r}"
    for allergen, synonyms in SYNONYMS:
        for phrase in synonyms:
            if _has_phrase(words, phrase):
                if allergen is Allergen.IODINATED_CONTRAST and any(_has_phrase(words, n) for n in NOT_IODINATED):
                    continue
                return allergen, f"synonym {phrase!r}"
    return Allergen.OTHER, "no match"


def classify(entry: AllergyEntry) -> AllergyMatch:
    """Return what one recorded allergy means for the procedure (rule allergy.matching): code first, then text."""
    if isinstance(entry, CodedAllergy) and entry.system == SNOMED and entry.code in SUBSTANCE_CODES:
        return AllergyMatch(label_of(entry), SUBSTANCE_CODES[entry.code].allergen, f"code {entry.code}")
    text = entry if isinstance(entry, str) else (entry.text or "")
    allergen, how = _by_text(text)
    return AllergyMatch(label_of(entry), allergen, how)


def classify_all(entries: Iterable[AllergyEntry] | None) -> tuple[AllergyMatch, ...]:
    """Return every recorded allergy classified, in the order recorded (none when not recorded)."""
    return tuple(classify(e) for e in entries or ())


def matching(entries: Iterable[AllergyEntry] | None, *allergens: Allergen) -> tuple[AllergyMatch, ...]:
    """Return the recorded allergies that are one of ``allergens``."""
    return tuple(m for m in classify_all(entries) if m.allergen in allergens)


def real_allergies(entries: Sequence[AllergyEntry] | None) -> tuple[AllergyMatch, ...]:
    """Return the allergies actually present: every entry but 'no known allergy'."""
    return tuple(m for m in classify_all(entries) if m.allergen is not Allergen.NONE_KNOWN)


def allergy_labels(entries: Sequence[AllergyEntry] | None) -> tuple[str, ...]:
    """Return the words of every real allergy, for lists and documents."""
    return tuple(m.label for m in real_allergies(entries))
