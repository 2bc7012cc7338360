"""End-to-end SMART Backend Services: an administrator registers a system client with ``vertebro fhir
register-client``; the client gets an access token from a real ``vertebro serve`` with a signed JWT assertion,
runs a Bulk Data ``$export`` to completion and reads the files (SMART App Launch 2.x "Backend Services";
Bulk Data IG "Bulk Data Export")."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.serving import serve
from tests.e2e.test_cli import DEMO, run
from tests.unit.fhir.smart_clients import BackendClient

pytestmark = pytest.mark.e2e


def test_a_registered_client_exports_in_bulk_with_its_own_token(tmp_path: Path) -> None:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'smart.db'}"}
    assert run("db", "upgrade", env=env).returncode == 0
    saved = run("assess", str(DEMO / "01-acute-osteoporotic-l1.yaml"), "--save", "--format", "json", env=env)
    assert saved.returncode == 0, saved.stderr
    backend = BackendClient(client_id="registry-loader")
    (tmp_path / "jwks.json").write_text(json.dumps(backend.jwks))
    registered = run(
        "fhir", "register-client", "registry-loader", "--jwks", str(tmp_path / "jwks.json"),
        "--scope", "system/*.read", "--name", "Regional registry", "--actor", "admin.e2e", env=env,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.strip() == "registered registry-loader (coordinator): system/*.read"
    again = run(
        "fhir", "register-client", "registry-loader", "--jwks", str(tmp_path / "jwks.json"), "--scope", "system/*.read",
        env=env,
    )  # fmt: skip
    assert again.returncode == 2
    assert "already registered" in again.stderr

    with serve(env["VERTEBRO_DATABASE_URL"], VERTEBRO_EXPORT_DIR=str(tmp_path / "exports")) as base:
        config = httpx.get(f"{base}/fhir/.well-known/smart-configuration").json()
        token_url = config["token_endpoint"]
        assert token_url == f"{base}/auth/token"
        response = httpx.post(token_url, data=backend.token_form(token_url, "system/*.read", alg="RS384"))
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

        kick_off = httpx.get(f"{base}/fhir/$export", headers={**headers, "Prefer": "respond-async"})
        assert kick_off.status_code == 202, kick_off.text
        status_url = kick_off.headers["content-location"]
        deadline = time.monotonic() + 60
        status = httpx.get(status_url, headers=headers)
        while status.status_code == 202 and time.monotonic() < deadline:
            time.sleep(0.3)
            status = httpx.get(status_url, headers=headers)
        assert status.status_code == 200, status.text
        manifest = status.json()
        assert manifest["requiresAccessToken"] is True
        files = {o["type"]: o for o in manifest["output"]}
        assert {"Patient", "Condition", "Observation"} <= set(files)
        for output in files.values():
            assert httpx.get(output["url"]).status_code == 401  # the files need the token
            lines = httpx.get(output["url"], headers=headers).text.splitlines()
            assert len(lines) == output["count"]
            assert all(json.loads(line)["resourceType"] == output["type"] for line in lines)

        refused = httpx.post(token_url, data=backend.token_form(token_url, "system/*.write"))
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_scope"

        revoked = run("fhir", "revoke-client", "registry-loader", env=env)  # a key lost: the token stops at once
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.get(f"{base}/fhir/Patient", headers=headers).status_code == 401
        after = httpx.post(token_url, data=backend.token_form(token_url))
        assert after.status_code == 401
        assert after.json()["error"] == "invalid_client"
