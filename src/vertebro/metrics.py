"""Prometheus metrics of the server: request latency by route, request counts, audit write failures.

Served at ``/metrics`` (see :mod:`vertebro.web.ops.endpoints`). With several server worker processes
(``vertebro serve --workers N``) the command points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before
the workers start, and every scrape adds up the workers' values (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

REQUEST_SECONDS = Histogram(
    "vertebro_http_request_duration_seconds",
    "Time from a request's arrival to its response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REQUESTS = Counter(
    "vertebro_http_requests", "Requests answered, by method, route template and status.", ["method", "route", "status"]
)
AUDIT_WRITE_FAILURES = Counter(
    "vertebro_audit_write_failures", "Audit log inserts that failed (the request or job failed with them)."
)


def exposition(*extra: Collector) -> bytes:
    """Return the metrics in Prometheus text format: this process's (or all workers') plus ``extra``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if extra:
        per_scrape = CollectorRegistry(auto_describe=False)
        for collector in extra:
            per_scrape.register(collector)
        text += generate_latest(per_scrape)
    return text
