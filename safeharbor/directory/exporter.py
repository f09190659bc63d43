"""Exporting the directory as HSDS 3.0, through the public serialisers of ``hsds.py``, so a
confidential location's address and coordinates never leave (they are not even read here).

- ``export_json``: one page (the HSDS API's page form) whose contents are every service as a
  fully nested object (compiled/service.json). Service-centred: objects no service reaches (an
  organisation without services, an unused taxonomy) are in the tabular export only.
- ``export_datapackage``: every table as CSV (the official columns, in order) and a
  ``datapackage.json`` describing them (the official descriptor, limited to these files).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from . import hsds, schemas, taxonomy
from .hsds import ENTITIES
from .models import Capacity, Location, Service

Progress = Callable[[str, int, int], None]
CHUNK = 1000


def iter_full_services(progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    ids = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        services = (
            Service.objects.filter(pk__in=chunk)
            .order_by("pk")
            .select_related("organization", "program", "capacity")
            .prefetch_related(*hsds.SERVICE_FULL_PREFETCH)
        )
        yield from hsds.full_services(services)
        if progress:
            progress("service", start + len(chunk), len(ids))


def export_json(progress: Progress | None = None) -> dict[str, Any]:
    contents = list(iter_full_services(progress))
    return {
        "total_items": len(contents),
        "total_pages": 1,
        "page_number": 1,
        "size": len(contents),
        "first_page": True,
        "last_page": True,
        "empty": not contents,
        "contents": contents,
    }


def _cell(value: Any) -> str:
    value = hsds.hsds_value(value)
    return "" if value is None else str(value)


def _rows(name: str) -> Iterator[dict[str, Any]]:
    """The rows of one table as HSDS fields, confidential locations stripped."""
    entity = ENTITIES[name]
    queryset = entity.model._default_manager.order_by("pk")
    if name == "address":
        queryset = queryset.filter(location__is_confidential=False)
    elif name == "accessibility":
        queryset = queryset.filter(location__is_confidential=False)
    for obj in queryset.iterator(chunk_size=5000):
        yield hsds.scalars(name, obj)
    if name == "attribute":
        for capacity in Capacity.objects.order_by("pk").iterator(chunk_size=5000):
            yield hsds.capacity_attribute(capacity)
        for location in Location.objects.filter(is_confidential=True).order_by("pk"):
            yield hsds.confidential_attribute(location)


def export_datapackage(progress: Progress | None = None) -> dict[str, bytes]:
    """File name -> contents of the tabular form."""
    taxonomy.ensure_taxonomy()  # our attributes' terms must be in taxonomy_terms.csv
    official = schemas.datapackage()
    files: dict[str, bytes] = {}
    resources = []
    by_name = {r["name"]: r for r in official["resources"]}
    for position, name in enumerate(hsds.WRITE_ORDER, start=1):
        entity = ENTITIES[name]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(entity.fields), lineterminator="\n")
        writer.writeheader()
        for row in _rows(name):
            writer.writerow({f: _cell(row.get(f)) for f in entity.fields})
        files[entity.csv] = out.getvalue().encode()
        resources.append(by_name[name])
        if progress:
            progress("tables", position, len(hsds.WRITE_ORDER))
    descriptor = {k: v for k, v in official.items() if k != "resources"}
    descriptor["resources"] = resources
    files["datapackage.json"] = json.dumps(descriptor, indent=2).encode()
    return files
