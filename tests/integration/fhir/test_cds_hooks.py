"""CDS Hooks over HTTP: discovery, cards, the EHR's JWT (signature, aud, exp, jti, iss), the link and its audit."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.cds_requests import hook_request
from vertebro.config import Settings
from vertebro.store.db import UnitOfWork
from vertebro.web.app import create_app

SIGN = "/cds-services/vertebro-order-sign"
AUDIENCE = "http://testserver" + SIGN
ISSUER = "https://ehr.example.org"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(tmp_path: Path, key: rsa.RSAPrivateKey) -> Path:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    path = tmp_path / "ehr-jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "ehr-1", "alg": "RS384", "use": "sig"}]}))
    return path


@pytest.fixture
def ehr(db_url: str, session_factory: sessionmaker[Session], jwks: Path) -> Iterator[TestClient]:
    """A client of an app that requires the EHR's JWT."""
    app = create_app(Settings(database_url=db_url, secure_cookies=False, cds_jwks=jwks, cds_issuers=(ISSUER,)))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        yield client


def token(key: rsa.RSAPrivateKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "client-1", "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS384", headers={"kid": "ehr-1"})


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_without_a_jwks_calls_are_accepted_and_the_patient_is_never_looked_up(
    client: TestClient, stored_case: Callable[..., int]
) -> None:
    stored_case("CDS-1")
    discovery = client.get("/cds-services").json()
    assert "accepted without a JWT" in discovery["services"][0]["usageRequirements"]
    response = client.post(SIGN, json=hook_request("order-sign", identifier="CDS-1"))
    assert response.status_code == 200, response.text
    found = response.json()["cards"]
    assert found[0]["summary"].startswith("ACR")
    assert not any("links" in c for c in found)


def test_a_valid_jwt_gets_cards_and_a_link_to_a_known_patient_audited(
    ehr: TestClient, key: rsa.RSAPrivateKey, stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    stored_case("CDS-2")
    assert "must carry a JWT" in ehr.get("/cds-services").json()["services"][0]["usageRequirements"]
    response = ehr.post(SIGN, json=hook_request("order-sign", identifier="CDS-2"), headers=_bearer(token(key)))
    assert response.status_code == 200, response.text
    link = response.json()["cards"][-1]["links"][0]
    assert link["url"].startswith("http://testserver/patients/")
    patient_id = int(link["url"].rsplit("/", 1)[1])
    with UnitOfWork(session_factory) as uow:
        reads = [
            e for e in uow.audit.entries(patient_id=patient_id, action="read") if e.detail.get("via") == "cds-hooks"
        ]
    assert [(e.actor, e.detail["hook"]) for e in reads] == [(f"cds:{ISSUER}", "order-sign")]


def test_bad_tokens_are_refused_with_401_and_the_reason(ehr: TestClient, key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    replayed = token(key)
    assert ehr.post(SIGN, json=hook_request("order-sign"), headers=_bearer(replayed)).status_code == 200
    cases = [
        ({}, "a JWT (Authorization: Bearer) is required"),
        (_bearer("not-a-jwt"), "not a JWT"),
        (_bearer(token(other)), "Signature verification failed"),
        (_bearer(token(key, aud="http://testserver/cds-services/vertebro-patient-view")), "Audience"),
        (_bearer(token(key, exp=int(time.time()) - 3600)), "expired"),
        (_bearer(token(key, jti=None)), "jti"),
        (_bearer(token(key, iss="https://evil.example")), "issuer 'https://evil.example' is not trusted"),
        (_bearer(replayed), "already used"),
        (_bearer(jwt.encode({"iss": ISSUER}, "s" * 32, algorithm="HS256")), "algorithm 'HS256' is not accepted"),
    ]
    for headers, message in cases:
        response = ehr.post(SIGN, json=hook_request("order-sign"), headers=headers)
        assert response.status_code == 401, (message, response.text)
        assert message in response.json()["detail"], response.json()
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_errors_are_json_with_the_field(client: TestClient) -> None:
    missing = client.post(SIGN, json={**hook_request("order-sign"), "prefetch": {}})
    assert missing.status_code == 412
    assert missing.json()["field"] == "prefetch.patient"
    assert client.post("/cds-services/nope", json=hook_request("order-sign")).status_code == 404
    assert client.post(SIGN, content=b"{", headers={"content-type": "application/json"}).status_code == 422
