"""HSDS objects for tests, loaded through the real importer (as every directory write is)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from safeharbor.directory import importer, taxonomy
from safeharbor.directory.services import directory_import

HSDS = Path(settings.BASE_DIR).parent / "shared" / "data" / "hsds-3.0"
EXAMPLES = HSDS / "examples"
SECRET_STREET = "742 Evergreen Hideaway Terrace"
SECRET_ZIP = "94110"
SECRET_LAT, SECRET_LON = 37.748123, -122.415456


def new_id() -> str:
    return str(uuid.uuid4())


def attribute(link_id: str, code: str, entity: str = "service", value: str = "") -> dict:
    item = {
        "id": new_id(),
        "link_id": link_id,
        "link_entity": entity,
        "taxonomy_term_id": str(taxonomy.term_id(code)),
    }
    if value:
        item["value"] = value
    return item


def service_object(
    *,
    name: str = "Harbor Youth Shelter",
    description: str = "Emergency shelter beds for youth.",
    lat: float = 37.7749,
    lon: float = -122.4194,
    postal_code: str = "94103",
    street: str = "100 Market Street",
    transportation: str = "Bus 22 to the corner",
    confidential: bool = False,
    codes: tuple[str, ...] = (),
    languages: tuple[str, ...] = ("en",),
    ages: tuple[int | None, int | None] = (None, None),
    free: bool | None = None,
    capacity: tuple[int, int | None] | None = None,
    hours: tuple[str, str, str] | None = None,
    status: str = "active",
    organization: dict | None = None,
    last_modified: str = "2026-01-10T10:00:00+00:00",
) -> dict[str, Any]:
    service_id, location_id = new_id(), new_id()
    org = organization or {"id": new_id(), "name": f"{name} Society", "description": "An org."}
    location: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "name": f"{name} site",
        "latitude": lat,
        "longitude": lon,
        "transportation": transportation,
        "addresses": [
            {
                "id": new_id(),
                "address_1": street,
                "city": "San Francisco",
                "state_province": "CA",
                "postal_code": postal_code,
                "country": "US",
                "address_type": "physical",
            }
        ],
    }
    if confidential:
        location["attributes"] = [
            attribute(location_id, taxonomy.CONFIDENTIAL_LOCATION, "location", "Call to arrange.")
        ]
    attributes = [attribute(service_id, code) for code in codes]
    if capacity is not None:
        available, maximum = capacity
        value = {
            "available": available,
            "maximum": maximum,
            "unit": "beds",
            "updated": "2026-01-10T10:00:00+00:00",
        }
        attributes.append(attribute(service_id, taxonomy.CAPACITY, value=json.dumps(value)))
    service: dict[str, Any] = {
        "id": service_id,
        "name": name,
        "description": description,
        "status": status,
        "last_modified": last_modified,
        "organization": org,
        "languages": [{"id": new_id(), "code": c, "name": c} for c in languages],
        "service_at_locations": [{"id": new_id(), "location": location}],
        "phones": [{"id": new_id(), "number": "(415) 555-0100"}],
        "attributes": attributes,
    }
    if ages[0] is not None:
        service["minimum_age"] = ages[0]
    if ages[1] is not None:
        service["maximum_age"] = ages[1]
    if free is not None:
        service["cost_options"] = [{"id": new_id(), "amount": 0 if free else 25, "currency": "USD"}]
    if hours is not None:
        days, opens, closes = hours
        service["schedules"] = [
            {
                "id": new_id(),
                "freq": "WEEKLY",
                "byday": days,
                "opens_at": opens,
                "closes_at": closes,
            }
        ]
    return service


def load(*services: dict[str, Any], lenient: bool = False) -> importer.ImportReport:
    source = importer.Source("test.json", json.dumps({"contents": list(services)}).encode())
    report = directory_import(
        actor=None, actor_label="test", json_sources=[(source, "service")], lenient=lenient
    )
    assert report.ok, [str(e) for e in report.errors]
    return report


def example_package() -> dict[str, importer.Source]:
    folder = EXAMPLES / "csv"
    return {p.name: importer.Source(p.name, p.read_bytes()) for p in folder.iterdir()}


def example_json(name: str) -> importer.Source:
    return importer.Source(name, (EXAMPLES / "json" / name).read_bytes())
