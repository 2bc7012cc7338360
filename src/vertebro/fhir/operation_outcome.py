"""OperationOutcome: every FHIR error, with the FHIR path (``expression``) of the problem when there is one."""

from __future__ import annotations

from vertebro.fhir.elements import Resource

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    415: "not-supported",
    422: "processing",
    428: "required",
    429: "throttled",
    503: "transient",
}


def operation_outcome(status: int, message: str, *, expression: str | None = None) -> Resource:
    """Return an OperationOutcome with one error issue (code chosen from the HTTP status)."""
    issue: Resource = {
        "severity": "error" if status < 500 else "fatal",
        "code": ISSUE_CODES.get(status, "exception"),
        "diagnostics": message,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def issues(problems: list[tuple[str, str]], *, severity: str = "error", code: str = "invalid") -> Resource:
    """Return an OperationOutcome listing several (expression, message) problems."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": severity, "code": code, "diagnostics": message, **({"expression": [path]} if path else {})}
            for path, message in problems
        ],
    }
