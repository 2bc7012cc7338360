"""Structured logs: one JSON object per line on standard error, for the server and the worker.

Operators' log shippers (journald, Fluent Bit, Loki, Elasticsearch) parse these without patterns. Fields
passed with ``extra={"fields": {...}}`` are merged into the line; the request id is added when the record
was logged while serving a request or running a job.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import logging
import queue
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from vertebro.store.context import current_request_id

ACCESS_LOGGER = "vertebro.access"
QUEUED_LINES = 10_000  # log lines waiting for the writer thread; more are dropped


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


class DroppingQueueHandler(QueueHandler):
    """Formats the line in the thread that logs (the request id is a context variable) and queues it for a
    writer thread; when the queue is full (nobody reads stderr), the line is dropped instead of the server
    waiting: a blocked log pipe must never stop requests."""

    def enqueue(self, record: logging.LogRecord) -> None:
        """Queue the record, or drop it when the queue is full."""
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(record)


def _drain(lines: queue.Queue[logging.LogRecord], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not lines.empty() and time.monotonic() < deadline:
        time.sleep(0.01)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record (vertebro's, uvicorn's errors, Procrastinate's) to stderr as JSON lines.

    Lines are written by a background thread from a bounded queue (:data:`QUEUED_LINES`), so that writing to a
    slow or full stderr never holds up the event loop; at exit the queue gets two seconds to drain.
    """
    lines: queue.Queue[logging.LogRecord] = queue.Queue(maxsize=QUEUED_LINES)
    handler = DroppingQueueHandler(lines)
    handler.setFormatter(JsonFormatter())
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter("%(message)s"))
    QueueListener(lines, writer).start()  # a daemon thread: never joined, so a blocked pipe cannot hang the exit
    atexit.register(_drain, lines, 2.0)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # vertebro.access logs each request, with its id
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)  # /readyz reads the revision
