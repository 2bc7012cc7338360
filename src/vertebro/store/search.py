"""Search text for SQL ``LIKE``: what a user types is matched literally, wildcards included.

``%`` and ``_`` typed into a search box are characters to find, not patterns: a search for ``_`` must not
list every patient. Every ``LIKE`` in the repositories builds its pattern with :func:`like_literal` and
passes ``escape=LIKE_ESCAPE`` (SQLite and PostgreSQL both honour ``LIKE ... ESCAPE``).
"""

from __future__ import annotations

LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """Return ``text`` with the ``LIKE`` wildcards ``%`` and ``_`` and the escape character escaped."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
