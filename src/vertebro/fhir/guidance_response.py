"""GuidanceResponse: one guideline profile's candidacy verdict, with the ruleset version as the module."""

from __future__ import annotations

from typing import Any

from vertebro.fhir.codes import local, system
from vertebro.fhir.elements import Resource, concept, reference


def guidance_responses(assessment_id: int, patient_id: int, result: dict[str, Any]) -> list[Resource]:
    """Return one GuidanceResponse per profile in a stored assessment ``result`` document.

    ``status`` is ``data-required`` when the profile lists missing data, else ``success``; the verdict
    is ``reasonCode`` (local ``verdict-category``), the reasons and missing items are notes.
    """
    version = result["ruleset_version"]
    responses: list[Resource] = []
    for profile, verdict in result["profiles"].items():
        notes = [{"text": f"{verdict['label']}"}]
        notes += [
            {"text": f"{r['effect']}: {r['detail']} [{r['rule']}{', unverified' if r.get('unverified') else ''}]"}
            for r in verdict.get("reasons", [])
        ]
        missing = [str(m) for m in verdict.get("missing", [])]
        notes += [{"text": f"missing: {m}"} for m in missing]
        response: Resource = {
            "resourceType": "GuidanceResponse",
            "id": f"a{assessment_id}-{profile}",
            "requestIdentifier": {"system": system("ruleset"), "value": f"assessment-{assessment_id}"},
            "moduleCanonical": f"{system('ruleset')}/{profile}|{version}",
            "status": "data-required" if missing else "success",
            "subject": reference("Patient", patient_id),
            "occurrenceDateTime": result["as_of"],
            "reasonCode": [concept(local("verdict", verdict["category"]), local("profile", profile))],
            "note": notes,
        }
        if missing:
            response["dataRequirement"] = [{"type": "Observation"}]
        responses.append(response)
    return responses
