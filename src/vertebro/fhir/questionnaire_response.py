"""QuestionnaireResponse: a completed follow-up (pain NRS, ODI, RDQ), plus one score Observation per answer.

vertebro keeps the scores, not the answers to each ODI or RDQ item, so the response carries the scores as
its items; each score is also an Observation ``derivedFrom`` the response (codes in ``maps.json``).
"""

from __future__ import annotations

from vertebro.fhir.codes import coding, local, maps, system
from vertebro.fhir.elements import Resource, case_identifier, concept, quantity, reference
from vertebro.store.models import FollowUp

SCORES = ("nrs", "odi", "rdq")


def _answers(follow_up: FollowUp) -> dict[str, float | int]:
    values = {"nrs": follow_up.nrs, "odi": follow_up.odi_percent, "rdq": follow_up.rdq}
    return {name: value for name, value in values.items() if value is not None}


def _answer(name: str, value: float | int) -> dict[str, object]:
    return {"valueDecimal": float(value)} if name == "odi" else {"valueInteger": int(value)}


def follow_up_resources(follow_up: FollowUp, patient_id: int, care_plan_id: str) -> list[Resource]:
    """Return the QuestionnaireResponse of a completed follow-up and its score Observations (none if not done)."""
    if follow_up.completed_at is None:
        return []
    response_id = f"f{follow_up.id}"
    answers = _answers(follow_up)
    when = follow_up.completed_at.isoformat()
    response: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "identifier": {"system": system("identifier-case"), "value": str(follow_up.case_id)},
        "questionnaire": f"{system('questionnaire')}/{maps()['workflow']['questionnaire']}",
        "basedOn": [reference("CarePlan", care_plan_id)],
        "status": "completed",
        "subject": reference("Patient", patient_id),
        "authored": when,
        "item": [
            {
                "linkId": "visit",
                "text": "Follow-up visit",
                "answer": [{"valueCoding": local("follow-up-visit", follow_up.visit)}],
            },
            *(
                {
                    "linkId": name,
                    "text": local("follow-up-item", name)["display"],
                    "answer": [_answer(name, value)],
                }
                for name, value in answers.items()
            ),
        ],
    }
    if follow_up.recorded_by:
        response["author"] = {"display": follow_up.recorded_by}
    scores = maps()["workflow"]["follow_up_scores"]
    observations = [
        {
            "resourceType": "Observation",
            "id": f"{response_id}-{name}",
            "identifier": [case_identifier(follow_up.case_id)],
            "status": "final",
            "category": [concept({"system": system("observation-category"), "code": "survey"})],
            "code": concept(coding(scores[name])),
            "subject": reference("Patient", patient_id),
            "effectiveDateTime": when,
            "derivedFrom": [reference("QuestionnaireResponse", response_id)],
            **({"valueQuantity": quantity(float(value), "%")} if name == "odi" else {"valueInteger": int(value)}),
        }
        for name, value in answers.items()
    ]
    return [response, *observations]
