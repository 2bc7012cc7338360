"""Education pages cite registry ids only, and every id names a primary source, never a low-grade page (issue 12)."""

from __future__ import annotations

import pytest

from vertebro.clinical.evidence import LOW_GRADE_HOSTS, SOURCES, low_grade
from vertebro.education.content import Page, pages


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.slug)
def test_pages_cite_registry_ids_whose_locator_is_primary(page: Page) -> None:
    for sid in (*page.cited, *page.sources):
        assert sid in SOURCES, (page.slug, sid)
        assert not low_grade(SOURCES[sid].locator), (page.slug, sid)
    for host in LOW_GRADE_HOSTS:
        assert host not in page.body, (page.slug, host)
    assert "acr-vcf-2022-abstract" not in page.sources
