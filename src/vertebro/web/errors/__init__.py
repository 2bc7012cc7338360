"""How every error leaves the app: one JSON error model for /api and /cds-services, OperationOutcome for /fhir,
error pages for the staff app and the portal; the request limits (body size, JSON depth) applied before a
request reaches a route; and the error responses every operation declares in ``/openapi.json`` (decision 0021).
"""
