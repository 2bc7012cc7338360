"""FHIR integration fixtures: the web fixtures (app, accounts, signed-in clients, stored cases)."""

from tests.integration.web.conftest import accounts, app_factory, client, signed_in, stored_case

__all__ = ["accounts", "app_factory", "client", "signed_in", "stored_case"]
