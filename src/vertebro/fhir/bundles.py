"""Transaction and batch Bundles (``POST /fhir``).

Entries may create (``POST Type``), update (``PUT Type/id``, with ``request.ifMatch``) or read
(``GET Type/id``). A *transaction* is all or nothing: entries run in FHIR's order (creates, Patients first,
then updates, then reads), ``urn:uuid:`` references to other entries' ``fullUrl`` are replaced by the ids given to them,
and the first failing entry fails the whole Bundle with its status and an OperationOutcome naming the entry;
the endpoint then commits nothing. A *batch* runs each entry in its own savepoint and answers each entry's
outcome (status, and an OperationOutcome for a failure) in the response Bundle.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import SQLAlchemyError

from vertebro.errors import VertebroError
from vertebro.fhir import search, service, writes
from vertebro.fhir.auth import FhirUser
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import InvalidResource, NotAllowed
from vertebro.fhir.operation_outcome import operation_outcome
from vertebro.fhir.repository import FhirRepository
from vertebro.store.db import UnitOfWork

logger = logging.getLogger(__name__)
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
_URL = re.compile(r"^([A-Z][A-Za-z]+)(?:/([A-Za-z0-9\-.]{1,64}))?$")


class EntryFailed(Exception):
    """One entry of a transaction failed: the whole transaction fails with the entry's status and message."""

    def __init__(self, index: int, error: VertebroError) -> None:
        where = f"Bundle.entry[{index}]"
        message = error.message if error.message.startswith(where) else f"{where}: {error.message}"
        super().__init__(message)
        self.status_code = error.status_code
        self.message = message
        self.expression = _entry_expression(where, error.field or "")

    def outcome(self) -> Resource:
        """Return the OperationOutcome of the failed transaction."""
        return operation_outcome(self.status_code, self.message, expression=self.expression)


_REQUEST_ELEMENTS = {"If-Match": "request.ifMatch", "If-None-Exist": "request.ifNoneExist"}


def _entry_expression(where: str, field: str) -> str:
    """The FHIRPath, within the Bundle, of what an entry's error names: a resource path (``Observation.status``)
    is under the entry's ``resource``; a header under its ``request``; a type, id or search parameter (which the
    REST API reads from the URL) is its ``request.url``."""
    if not field:
        return where
    if field.startswith(where):
        return field
    head, _, rest = field.partition(".")
    if head.isalpha() and head[0].isupper():  # a resource type: the error is about the entry's resource
        return f"{where}.resource" + (f".{rest}" if rest else "")
    if field == "body":
        return f"{where}.resource"
    return f"{where}.{_REQUEST_ELEMENTS.get(field, 'request.url')}"


def _replace_references(node: Any, ids: dict[str, str]) -> Any:
    if isinstance(node, dict):
        replaced = {k: _replace_references(v, ids) for k, v in node.items()}
        reference = replaced.get("reference")
        if isinstance(reference, str) and reference.startswith("urn:uuid:"):
            if reference not in ids:
                raise InvalidResource(f"{reference} is not the fullUrl of a resource created in this Bundle")
            replaced["reference"] = ids[reference]
        return replaced
    if isinstance(node, list):
        return [_replace_references(item, ids) for item in node]
    return node


def _request(entry: Any, index: int) -> tuple[str, str, str | None]:
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        raise InvalidResource("request.method is required", field=f"Bundle.entry[{index}].request")
    method = request["method"].upper()
    url = str(request.get("url") or "").removeprefix("/")
    if method == "GET" and "?" in url:  # a search entry (Type?query)
        kind = url.split("?", 1)[0]
        if _URL.match(kind) is None or "/" in kind:
            raise InvalidResource(f"request.url {url!r} is not Type?query", field=f"Bundle.entry[{index}].request.url")
        return method, url, None
    url = url.split("?")[0]
    if method not in ("POST", "PUT", "GET"):
        raise NotAllowed(
            f"request.method {method} is not supported in a Bundle (POST, PUT, GET)",
            field=f"Bundle.entry[{index}].request.method",
        )
    if _URL.match(url) is None:
        raise InvalidResource(f"request.url {url!r} is not Type or Type/id", field=f"Bundle.entry[{index}].request.url")
    return method, url, request.get("ifMatch")


def _run_entry(uow: UnitOfWork, user: FhirUser, entry: dict[str, Any], index: int, ids: dict[str, str]) -> Resource:
    method, url, if_match = _request(entry, index)
    if method == "GET" and "?" in url:
        return _search_entry(uow, user, url)
    kind, _, resource_id = url.partition("/")
    if method == "GET":
        if not resource_id:
            return _search_entry(uow, user, kind)
        resource = service.read(uow, user, kind, resource_id)
        return {"resource": resource, "response": {"status": "200 OK"}}
    body = _replace_references(entry.get("resource"), ids)
    if method == "POST":
        if resource_id:
            raise InvalidResource("a POST entry's request.url is the type only", field=f"Bundle.entry[{index}]")
        if_none_exist = (entry.get("request") or {}).get("ifNoneExist")
        written = writes.create(
            uow, user, kind, body, if_none_exist=if_none_exist if isinstance(if_none_exist, str) else None
        )
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
            ids[full_url] = f"{kind}/{written.resource['id']}"
    else:
        if not resource_id:
            raise InvalidResource("a PUT entry's request.url is Type/id", field=f"Bundle.entry[{index}]")
        written = writes.update(uow, user, kind, resource_id, body, if_match)
    status = "201 Created" if written.created else "200 OK"
    return {
        "resource": written.resource,
        "response": {
            "status": status,
            "location": written.location,
            "etag": written.etag,
            "lastModified": written.resource["meta"]["lastUpdated"],
        },
    }


def _search_entry(uow: UnitOfWork, user: FhirUser, url: str) -> Resource:
    """Answer a search entry (``GET Type?query``) with a searchset Bundle as the entry's resource."""
    kind, _, query = url.partition("?")
    service.check_type(kind)
    items = parse_qsl(query, keep_blank_values=True)
    parameters = search.parse(items, service.search_parameters(kind), prefer=None)
    count = (
        0
        if parameters.single("_summary") == "count"
        else search.count(parameters, service.DEFAULT_COUNT, service.MAX_COUNT)
    )
    if kind == "Patient":
        page = service.search_patients(uow, user, parameters, count=count, after_id=0)
    else:
        page = service.search_type(uow, user, kind, parameters, count=count, offset=0)
    entries = [{"resource": r, "search": {"mode": "match"}} for r in page.found]
    entries += [{"resource": r, "search": {"mode": "include"}} for r in page.included]
    found: Resource = {"resourceType": "Bundle", "type": "searchset", "total": page.total}
    if entries:  # FHIR JSON has no empty arrays
        found["entry"] = entries
    return {"resource": found, "response": {"status": "200 OK"}}


def _check_full_urls(entries: list[Any]) -> None:
    """Refuse a transaction in which two entries have the same fullUrl (FHIR R4 http 3.1.0.11.2)."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if not isinstance(full_url, str):
            continue
        if full_url in seen:
            raise InvalidResource(
                f"Bundle.entry[{index}].fullUrl {full_url!r} is also Bundle.entry[{seen[full_url]}]'s",
                field=f"Bundle.entry[{index}].fullUrl",
            )
        seen[full_url] = index


def process(uow: UnitOfWork, user: FhirUser, body: Any) -> Resource:
    """Run a transaction or batch Bundle and return the response Bundle (the endpoint commits)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidResource("POST /fhir takes a Bundle of type transaction or batch", field="Bundle")
    kind = body.get("type")
    if kind not in ("transaction", "batch"):
        raise InvalidResource(f"Bundle.type is {kind!r}: POST /fhir takes transaction or batch", field="Bundle.type")
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidResource("Bundle.entry must be a list", field="Bundle.entry")
    FhirRepository(uow.session).take_write_lock()
    results: list[Resource | None] = [None] * len(entries)
    ids: dict[str, str] = {}
    if kind == "transaction":
        _check_full_urls(entries)
        for index in sorted(range(len(entries)), key=lambda i: _order(entries[i])):
            try:
                results[index] = _run_entry(uow, user, entries[index], index, ids)
            except VertebroError as error:
                raise EntryFailed(index, error) from None
    else:
        for index, entry in enumerate(entries):
            results[index] = _batch_entry(uow, partial(_run_entry, uow, user, entry, index, ids))
    answered: Resource = {"resourceType": "Bundle", "type": f"{kind}-response"}
    if entries:  # an empty Bundle is answered without an entry element (FHIR JSON has no empty arrays)
        answered["entry"] = [r for r in results if r is not None]
    return answered


def _order(entry: Any) -> tuple[int, int]:
    """FHIR's processing order; among creates, Patients first (the other writable types refer to them)."""
    request = entry.get("request") if isinstance(entry, dict) else None
    method = request.get("method") if isinstance(request, dict) else None
    resource = entry.get("resource") if isinstance(entry, dict) else None
    is_patient = isinstance(resource, dict) and resource.get("resourceType") == "Patient"
    return _ORDER.get(str(method).upper(), 4), 0 if is_patient else 1


def _batch_entry(uow: UnitOfWork, run: Callable[[], Resource]) -> Resource:
    savepoint = uow.session.begin_nested()
    try:
        result = run()
    except VertebroError as error:
        savepoint.rollback()
        return {
            "response": {
                "status": f"{error.status_code}",
                "outcome": operation_outcome(error.status_code, error.message, expression=error.field),
            }
        }
    except SQLAlchemyError:  # one entry the database refuses fails alone: the batch's other entries stand
        savepoint.rollback()
        logger.exception("a batch entry failed in the database")
        return {"response": {"status": "500", "outcome": operation_outcome(500, "the database refused this entry")}}
    savepoint.commit()
    return result
