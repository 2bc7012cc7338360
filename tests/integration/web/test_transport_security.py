"""Strict-Transport-Security on HTTPS responses only (RFC 6797 8.1; issue 14, item 3)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_hsts_is_sent_over_https_and_never_over_plain_http(app_factory: Callable[[], TestClient]) -> None:
    with app_factory() as client:
        plain = client.get("/login")
        secure = client.get("https://testserver/login")
        api = client.post("https://testserver/api/token", json={})
    assert "strict-transport-security" not in plain.headers
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert api.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
