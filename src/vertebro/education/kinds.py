"""The kinds of personal document (kept apart so the command line can name them without loading renderers)."""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """The personal documents vertebro produces."""

    PREPARATION = "preparation"
    DISCHARGE = "discharge"
    PROCEDURE_REPORT = "procedure-report"
