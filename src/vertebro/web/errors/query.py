"""A query parameter that takes one value is given once: ``?status=a&status=b`` is refused, not read as ``b``.

FastAPI (like most frameworks) reads the last of repeated values of a single-valued parameter and drops the
others without a word. For a FHIR search that is worse than an error: FHIR repeats a parameter to mean "and",
so ``code=X&code=Y`` answered as ``code=Y`` returns more than was asked for. Parameters declared as lists
(``_include``) may repeat, and so may parameters the route does not read (they are ignored).
"""

from __future__ import annotations

import types
from collections import Counter
from typing import Annotated, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from vertebro.errors import InvalidInput

_SINGLE: dict[int, frozenset[str]] = {}  # per route: its query parameters that take one value


def _is_list(annotation: object) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation))
    if origin is Annotated:
        return _is_list(get_args(annotation)[0])
    return False


def _single_valued(dependant: Dependant) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params if not _is_list(field.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _single_valued(sub)
    return frozenset(names)


async def single_valued_query(request: Request) -> None:
    """Refuse (422) a request that repeats a query parameter its route reads as one value."""
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = {name for name, count in counts.items() if count > 1}
    route = request.scope.get("route")
    if not repeated or not isinstance(route, APIRoute):
        return
    declared = _SINGLE.get(id(route))
    if declared is None:
        declared = _SINGLE[id(route)] = _single_valued(route.dependant)
    single = sorted(repeated & declared)  # parameters the route does not read are ignored, repeated or not
    if single:
        raise InvalidInput(f"give {', '.join(single)} once: it takes one value", field=single[0])
