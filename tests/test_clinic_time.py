"""The clinic's clock, never the server's (hazard H120): no code in ``src`` reads today's date or turns a moment
into local time without naming the clinic's zone (``ClinicPolicy.time_zone``, ``VERTEBRO_TIMEZONE``).

A server on UTC serving a clinic in Berlin or Sydney would otherwise date follow-ups, questionnaires, holds and
procedure times a day or some hours wrong, and a time typed into a form would come back shifted on each save.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "vertebro"
SERVER_CLOCK = re.compile(r"\bdate\.today\(\)|\bdatetime\.today\(\)|\bdatetime\.now\(\)|\.astimezone\(\)")


def test_no_code_reads_the_servers_zone() -> None:
    """Every "today" and every local time names the clinic's zone (store.base.clinic_today, clinical.clock)."""
    found = [
        f"{path.relative_to(SRC.parent)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SERVER_CLOCK.search(line)
    ]
    assert found == [], "the server's zone is read here:\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for() -> None:
    """The pattern is not blind: each way of reading the server's zone is caught."""
    for line in ("x = dt.date.today()", "now = dt.datetime.now()", "local = moment.astimezone()"):
        assert SERVER_CLOCK.search(line), line
    for line in ("dt.datetime.now(dt.UTC)", "moment.astimezone(zone_of(name))", "clinic_today(policy.time_zone)"):
        assert not SERVER_CLOCK.search(line), line
