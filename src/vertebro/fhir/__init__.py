"""FHIR R4 (4.0.1): our records as FHIR resources and back, the /fhir server, bulk export.

Resources are built as plain dicts (no pydantic FHIR models on the hot path); ``fhir.resources.R4B``
validates them in the tests only.
"""
