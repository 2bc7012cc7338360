"""Published rates to set beside the registry's own (../shared/clinical-reference.md §6).

Each benchmark names its evidence source; a source that is not confirmed in its primary document
(confirmation ``unverified``) is shown as unverified on the dashboard. The definitions differ from
ours (imaging protocol, follow-up, population), and every benchmark says how.
"""

from __future__ import annotations

from vertebro.clinical.evidence import Confirmation, source
from vertebro.registry.schemas import Benchmark


def _benchmark(label: str, low: float, high: float, source_id: str, note: str = "") -> Benchmark:
    s = source(source_id)
    return Benchmark(label, low, high, source_id, s.citation, s.confirmation is not Confirmation.UNVERIFIED, note)


BENCHMARKS: dict[str, tuple[Benchmark, ...]] = {
    "leak:vertebroplasty": (
        _benchmark(
            "Meta-analysis, vertebroplasty", 0.547, 0.547, "leak-meta-2017", "per vertebra, any leak on imaging"
        ),
        _benchmark("KAVIAR, vertebroplasty (CT)", 0.82, 0.82, "dohm-2014", "164 of 201 levels, routine CT"),
        _benchmark("660-vertebra series", 0.33, 0.33, "al-ali-leaks", "per level, no clinical sequelae"),
    ),
    "leak:kyphoplasty": (
        _benchmark("Meta-analysis, kyphoplasty", 0.184, 0.184, "leak-meta-2017", "per vertebra, any leak on imaging"),
        _benchmark("KAVIAR, kyphoplasty (CT)", 0.73, 0.73, "dohm-2014", "157 of 214 levels, routine CT"),
        _benchmark("Balloon kyphoplasty registry", 0.40, 0.40, "bkp-registry-2012", "cement outside the body, 372 pts"),
    ),
    "embolism": (
        _benchmark("Systematic review", 0.021, 0.26, "pce-review-2012", "imaging-detected; ours counts recorded ones"),
        _benchmark("Osteoporotic fractures", 0.035, 0.23, "krueger-2009", "imaging-detected"),
    ),
    "serious": (_benchmark("Serious complications", 0.0, 0.01, "va-overview-low-grade", "low-grade tertiary source"),),
    "leak_symptomatic": (
        _benchmark(
            "Intracanal leakage, 3,175 VP",
            0.007,
            0.007,
            "leak-pattern-2019",
            "intracanal leaks; 4 of 26 needed decompression",
        ),
    ),
    "new_fracture": (
        _benchmark("VERTOS II, after vertebroplasty", 15 / 91, 15 / 91, "vertos-ii-2010", "15 of 91 patients"),
        _benchmark("Series of 357 patients", 0.18, 0.18, "new-fracture-series-357", "any new fracture within a year"),
    ),
    "nrs_2w_below4": (
        _benchmark(
            "VAPOUR, vertebroplasty", 0.44, 0.44, "vapour-2016", "NRS below 4 at 14 days; fractures under 6 weeks"
        ),
        _benchmark("VAPOUR, sham procedure", 0.21, 0.21, "vapour-2016", "the placebo arm"),
    ),
}
"""Benchmarks by figure key."""
