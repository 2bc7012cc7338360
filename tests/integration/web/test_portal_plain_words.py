"""The portal's information pages explain a source's standing in words, without bracketed tags."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from vertebro.clinical.rules import RULES
from vertebro.education.content import pages

TAGS = re.compile(r"\[(?:unverified|secondary|local policy|verify)[^\]]*\]", re.IGNORECASE)


@pytest.mark.parametrize("slug", [p.slug for p in pages()])
def test_no_bracketed_confirmation_tags_or_rule_ids_on_the_portal_pages(client: TestClient, slug: str) -> None:
    page = client.get(f"/portal/info/{slug}.html")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    assert not TAGS.search(text), TAGS.search(text)
    assert not any(rule_id in text for rule_id in RULES), slug
