"""Vendored front-end files are pinned, served locally (no CDN), and the API docs work offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

VENDOR = Path(__file__).resolve().parents[3] / "src" / "vertebro" / "web" / "static" / "vendor"
HTMX_2_0_11_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
# npm `fullcalendar` 6.1.22, package/index.global.min.js (scripts/vendor-fullcalendar.sh fetches and checks it)
FULLCALENDAR_6_1_22_SHA256 = "65f927f1802cb35428b9c5e2a8d2276633880a89ee5ea5f9a7727f79892786ea"


def test_htmx_is_the_pinned_release() -> None:
    assert hashlib.sha256((VENDOR / "htmx-2.0.11.min.js").read_bytes()).hexdigest() == HTMX_2_0_11_SHA256


def test_fullcalendar_is_the_pinned_mit_standard_bundle() -> None:
    bundle = (VENDOR / "fullcalendar-6.1.22.min.js").read_bytes()
    assert hashlib.sha256(bundle).hexdigest() == FULLCALENDAR_6_1_22_SHA256
    assert b"FullCalendar Standard Bundle v6.1.22" in bundle[:200]
    assert b"resourceTimeGrid" not in bundle  # no premium (resource) view in the bundle
    licence = (VENDOR / "fullcalendar-LICENSE").read_text()
    assert licence.startswith("MIT License")


def test_api_docs_load_only_local_assets(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-bundle-5.35.0.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/static/vendor/swagger-ui-bundle-5.35.0.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "vertebro"


def test_pages_load_no_remote_script(client: TestClient) -> None:
    page = client.get("/login")
    assert 'src="/static/vendor/htmx-2.0.11.min.js"' in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
