"""Structured logs: one JSON object per line on standard error, for the server and the worker.

Operators' log shippers (journald, Fluent Bit, Loki, Elasticsearch) parse these without patterns. Fields
passed with ``extra={"fields": {...}}`` are merged into the line; the request id is added when the record
was logged while serving a request or running a job.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from vertebro.store.context import current_request_id

ACCESS_LOGGER = "vertebro.access"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, request id and the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = current_request_id()
        if rid is not None:
            line["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record (vertebro's, uvicorn's errors, Procrastinate's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # vertebro.access logs each request, with its id
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)  # /readyz reads the revision
