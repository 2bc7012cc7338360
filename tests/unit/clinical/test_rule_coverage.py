"""Every clinical rule has at least one test that names it and quotes the guideline text it encodes."""

from __future__ import annotations

import ast
from pathlib import Path

from vertebro.clinical import assessment  # noqa: F401  (imports every rule module)
from vertebro.clinical.evidence import SOURCES
from vertebro.clinical.rules import RULES

TESTS = Path(__file__).resolve().parent


def _rule_marks() -> dict[str, list[str]]:
    """Map each rule id marked with ``@pytest.mark.rule(...)`` to the docstrings of its tests."""
    marks: dict[str, list[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "rule"
                ):
                    for arg in decorator.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            marks.setdefault(arg.value, []).append(ast.get_docstring(node) or "")
    return marks


def test_every_rule_has_a_test_that_quotes_its_source() -> None:
    marks = _rule_marks()
    untested = sorted(set(RULES) - set(marks))
    assert not untested, f"rules without a @pytest.mark.rule test: {untested}"
    unquoted = sorted(rid for rid, docs in marks.items() if not any('"' in d or "“" in d for d in docs))
    assert not unquoted, f"rule tests whose docstring quotes no guideline text: {unquoted}"


def test_marks_name_real_rules() -> None:
    unknown = sorted(set(_rule_marks()) - set(RULES))
    assert not unknown, f"tests mark rules that do not exist: {unknown}"


def test_every_rule_cites_registered_sources() -> None:
    for r in RULES.values():
        assert r.sources, r.id
        for sid in r.sources:
            assert sid in SOURCES, (r.id, sid)


def test_every_source_has_a_locator_and_a_plausible_year() -> None:
    for s in SOURCES.values():
        assert s.locator.startswith(("doi:", "http://", "https://", "vertebro:")), s.id
        assert s.year is None or 1980 <= s.year <= 2026, s.id
