"""Patient: our ``patients`` row as a FHIR Patient, and a FHIR Patient back into our fields."""

from __future__ import annotations

from dataclasses import dataclass

from vertebro.fhir.codes import system
from vertebro.fhir.elements import Resource
from vertebro.store.models import Patient

GENDERS = {"female": "female", "male": "male", "other": "other"}


def patient_resource(patient: Patient) -> Resource:
    """Return the FHIR Patient for a stored patient (identifier, name, birth date, gender, version)."""
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": {"versionId": str(patient.version)},
        "identifier": [
            {"system": patient.identifier_system or system("identifier-patient"), "value": patient.identifier}
        ],
        "gender": GENDERS[patient.sex],
    }
    if patient.name:
        resource["name"] = [human_name(patient.name)]
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def human_name(text: str) -> dict[str, object]:
    """Return a HumanName with ``text`` and, when it has several words, family (last) and given names."""
    words = text.split()
    name: dict[str, object] = {"text": text}
    if len(words) > 1:
        name["family"] = words[-1]
        name["given"] = words[:-1]
    elif words:
        name["family"] = words[0]
    return name


@dataclass(frozen=True, slots=True)
class PatientFields:
    """What we keep of a FHIR Patient."""

    identifier: str
    name: str | None
    birth_date: str | None
    sex: str
    identifier_system: str | None = None  # None: vertebro's own system


class PatientProblem(ValueError):
    """A FHIR Patient we cannot take, with the FHIR path of the problem."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def patient_fields(resource: Resource) -> PatientFields:
    """Return our fields of a FHIR Patient (identifier: ours if present, else the first one).

    Raises :class:`PatientProblem` naming the FHIR path when the identifier or gender cannot be used.
    """
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    ours = [i for i in identifiers if i.get("system") == system("identifier-patient")]
    candidates = ours or identifiers
    identifier_system = None
    if not candidates:
        if not resource.get("id"):
            raise PatientProblem("Patient.identifier", "a patient needs an identifier (or an id) to be matched")
        identifier = f"fhir-{resource['id']}"
    else:
        identifier = str(candidates[0]["value"])
        sent = candidates[0].get("system")
        if isinstance(sent, str) and sent and sent != system("identifier-patient"):
            if len(sent) > 255:
                raise PatientProblem("Patient.identifier.system", "must be at most 255 characters")
            identifier_system = sent
    if len(identifier) > 64:
        raise PatientProblem("Patient.identifier.value", "must be at most 64 characters")
    gender = resource.get("gender")
    if gender not in GENDERS:
        raise PatientProblem("Patient.gender", f"{gender!r} cannot be used (female, male or other)")
    return PatientFields(identifier, name_text(resource), resource.get("birthDate"), GENDERS[gender], identifier_system)


def name_text(resource: Resource) -> str | None:
    """Return the patient's name as one string (``text``, else given names and family), or None."""
    for name in resource.get("name") or []:
        if name.get("text"):
            return str(name["text"])[:200]
        parts = [*name.get("given", []), name.get("family", "")]
        joined = " ".join(p for p in parts if p)
        if joined:
            return joined[:200]
    return None
