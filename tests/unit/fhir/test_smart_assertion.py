"""SMART Backend Services client assertions: what :func:`checked_assertion` accepts and refuses, and why."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.unit.fhir.smart_clients import BackendClient
from vertebro.fhir.smart import TokenError, checked_assertion, granted_scope

TOKEN_URL = "https://vertebro.example/auth/token"


@pytest.fixture(scope="module")
def client() -> BackendClient:
    return BackendClient()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _refused(client: BackendClient, assertion: str, reason: str, jwks: object = None) -> None:
    with pytest.raises(TokenError) as caught:
        checked_assertion(assertion, jwks or client.jwks, client.client_id, TOKEN_URL, _now())
    assert caught.value.error == "invalid_client"
    assert caught.value.status == 401
    assert reason in caught.value.description


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_a_valid_assertion_is_accepted(client: BackendClient, alg: str) -> None:
    assertion = client.assertion(TOKEN_URL, alg=alg, jti="one")
    checked = checked_assertion(assertion, client.jwks, client.client_id, TOKEN_URL, _now())
    assert checked.client_id == client.client_id
    assert checked.jti == "one"


def test_an_expired_assertion_is_refused(client: BackendClient) -> None:
    _refused(client, client.assertion(TOKEN_URL, exp=int(time.time()) - 120), "has expired")


def test_an_assertion_living_more_than_five_minutes_is_refused(client: BackendClient) -> None:
    _refused(client, client.assertion(TOKEN_URL, exp=int(time.time()) + 600), "more than five minutes ahead")


def test_an_assertion_for_another_audience_is_refused(client: BackendClient) -> None:
    _refused(client, client.assertion("https://elsewhere.example/token"), f"aud must be the token endpoint {TOKEN_URL}")


@pytest.mark.parametrize("claim", ["iss", "sub"])
def test_iss_and_sub_must_be_the_client(client: BackendClient, claim: str) -> None:
    _refused(client, client.assertion(TOKEN_URL, **{claim: "someone-else"}), "iss and sub must both be the client id")


def test_an_assertion_without_jti_is_refused(client: BackendClient) -> None:
    _refused(client, client.assertion(TOKEN_URL, jti=None), "has no jti")


def test_an_assertion_signed_by_another_key_is_refused(client: BackendClient) -> None:
    impostor = BackendClient(client_id=client.client_id)  # same kid "ec-1", another key
    _refused(client, impostor.assertion(TOKEN_URL), "signature does not verify")


def test_an_unknown_kid_is_refused(client: BackendClient) -> None:
    _refused(client, client.assertion(TOKEN_URL, kid="ec-9"), "no registered key of the client has kid 'ec-9'")


def test_alg_none_is_refused(client: BackendClient) -> None:
    _refused(client, client.unsigned(TOKEN_URL), "alg 'none' is refused")


def test_hs256_signed_with_the_public_key_is_refused(client: BackendClient) -> None:
    _refused(client, client.hs256_with_public_key(TOKEN_URL), "alg 'HS256' is refused")


def test_es256_is_refused(client: BackendClient) -> None:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    assertion = jwt.encode({"alg": "ES256", "kid": "ec-1"}, client.claims(TOKEN_URL), key, algorithms=["ES256"])
    _refused(client, assertion, "alg 'ES256' is refused")


def test_garbage_is_refused(client: BackendClient) -> None:
    _refused(client, "not.a.jwt", "not a signed JWT")


def test_a_registered_private_key_is_never_used(client: BackendClient) -> None:
    private = {"keys": [client.ec.as_dict(private=True)]}
    _refused(client, client.assertion(TOKEN_URL), "registered JWKS cannot be used", jwks=private)


def test_scopes_must_be_registered_system_scopes() -> None:
    assert granted_scope("system/Patient.rs system/Observation.read", "system/*.read") == (
        "system/Patient.rs system/Observation.read"
    )
    for requested, reason in [
        ("system/*.write", "system/*.write is not granted to this client"),
        ("user/*.read", "system/ scopes only, not user/*.read"),
        ("patient/*.read", "system/ scopes only"),
        ("openid", "'openid' is not a scope vertebro grants"),
        ("", "scope is required"),
    ]:
        with pytest.raises(TokenError) as caught:
            granted_scope(requested, "system/*.read")
        assert caught.value.error == "invalid_scope"
        assert caught.value.status == 400
        assert reason in caught.value.description
