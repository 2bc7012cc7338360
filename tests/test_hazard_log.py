"""The hazard log names real tests: every row has a mitigation proved by a test that exists.

Issue 12 item 6. ``docs/safety/hazard-log.md`` is the clinical safety case (NHS DCB0129 style). Each hazard row
names one or more tests as ``tests/<path>.py::<test name>``; this test fails when a named file or test does not
exist, when a row names no test, or when a rating is not on the log's scales.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
TEST_ID = re.compile(r"`(tests/[\w/.-]+\.py)::([\w]+)(?:\[[^\]`]*\])?`")
SEVERITIES = {"Catastrophic", "Major", "Considerable", "Significant", "Minor"}
LIKELIHOODS = {"Very high", "High", "Medium", "Low", "Very low"}


def _rows() -> list[list[str]]:
    rows = []
    for line in LOG.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\|\s*H\d+\s*\|", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_the_log_has_hazards_with_every_column() -> None:
    rows = _rows()
    assert len(rows) >= 60
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "hazard ids are unique"
    for row in rows:
        assert len(row) == 10, (
            f"{row[0]}: 10 columns (id, hazard, cause, effect, severity, likelihood, risk, mitigation, tests, status)"
        )
        assert row[4] in SEVERITIES, f"{row[0]}: severity {row[4]!r}"
        assert row[5] in LIKELIHOODS, f"{row[0]}: likelihood {row[5]!r}"
        assert row[6] in {"1", "2", "3", "4", "5"}, f"{row[0]}: residual risk {row[6]!r}"


def test_every_hazard_names_tests_that_exist() -> None:
    problems = []
    for row in _rows():
        found = TEST_ID.findall(row[8])
        if not found:
            problems.append(f"{row[0]}: names no test")
        for path, name in found:
            file = ROOT / path
            if not file.is_file():
                problems.append(f"{row[0]}: {path} does not exist")
            elif not re.search(
                rf"^\s*(async\s+)?def {name}\(|^class {name}\b|^{name} = ", file.read_text(encoding="utf-8"), re.M
            ):
                problems.append(f"{row[0]}: {path} has no test {name}")
    assert problems == []
