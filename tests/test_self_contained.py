"""The repository stands alone: no test or benchmark reads a file outside it.

Issue 14 item 4. The public test data the tests need is in ``tests/fixtures/`` (origins and licences in its
README). ``.ci/run`` also proves it by running ``make test`` in a clone with nothing beside it; this test
catches a new reference to ``../shared`` (or any path above the repository) before CI does.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
OUTSIDE = re.compile(r"""/\s*["']shared["']|["']\.\./|parents\[(\d+)\]\.parent""")


def _python_files() -> list[Path]:
    return sorted([*ROOT.joinpath("tests").rglob("*.py"), *ROOT.joinpath("bench").rglob("*.py")])


def test_no_test_or_benchmark_names_a_path_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _python_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_every_fixture_file_has_its_origin_in_the_readme() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    files = [p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md"]
    missing = [name for name in files if f"`{name}`" not in readme]
    assert files, "tests/fixtures holds the public test data"
    assert missing == []
