"""A confidential location's address (and anything that could place it) never leaves: not in
any export, API response, public or workers' page, search match or distance."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from safeharbor.core.tests.personas import verified_client
from safeharbor.directory import exporter, taxonomy
from safeharbor.directory.models import Location, Service

from .factories import SECRET_LAT, SECRET_LON, SECRET_STREET, SECRET_ZIP, load, service_object

pytestmark = pytest.mark.django_db
SECRETS = (SECRET_STREET, "Evergreen", SECRET_ZIP, str(SECRET_LAT), str(SECRET_LON), "hidden gate")


@pytest.fixture
def safe_house():
    load(
        service_object(
            name="Lantern Safe House",
            street=SECRET_STREET,
            transportation="Route 9 to the hidden gate",
            postal_code=SECRET_ZIP,
            lat=SECRET_LAT,
            lon=SECRET_LON,
            confidential=True,
            codes=(taxonomy.EXPLOITED_YOUTH, "need-shelter"),
            capacity=(2, 6),
        ),
        service_object(name="Open Clinic", postal_code="94103"),
    )
    return Service.objects.get(name="Lantern Safe House")


def _clean(text: str, where: str) -> None:
    # What the visitor typed is echoed back (the form, the links); that is not a leak.
    text = text.replace(f"zip={SECRET_ZIP}", "").replace(f'value="{SECRET_ZIP}"', "")
    text = text.replace(f"postcode={SECRET_ZIP}", "")
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked through {where}"


def test_the_address_is_stored_but_flagged(safe_house):
    location = Location.objects.get(service_at_locations__service=safe_house)
    assert location.is_confidential
    assert location.addresses.get().address_1 == SECRET_STREET


def test_never_in_any_export(safe_house):
    _clean(json.dumps(exporter.export_json()), "the JSON export")
    for name, content in exporter.export_datapackage().items():
        _clean(content.decode(), f"the tabular export ({name})")


def test_never_in_the_api(safe_house, client):
    urls = [
        "/api/hsds/services",
        "/api/hsds/services?full=true",
        f"/api/hsds/services/{safe_house.pk}",
        "/api/hsds/service_at_locations",
        "/api/hsds/organizations",
        f"/api/hsds/services?postcode={SECRET_ZIP}",
        f"/api/hsds/services?postcode={SECRET_ZIP}&proximity=2000",
        f"/api/hsds/service_at_locations?postcode={SECRET_ZIP}&proximity=2000",
        "/api/hsds/services?search=evergreen",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        _clean(response.content.decode(), url)
    by_zip = client.get(f"/api/hsds/services?postcode={SECRET_ZIP}").json()
    assert by_zip["total_items"] == 0  # its postcode does not find it
    detail = client.get(f"/api/hsds/services/{safe_house.pk}").json()
    location = detail["service_at_locations"][0]["location"]
    assert location["addresses"] == []
    assert "latitude" not in location
    codes = [a["taxonomy_term"]["code"] for a in location["attributes"]]
    assert taxonomy.CONFIDENTIAL_LOCATION in codes


def test_never_on_a_page(safe_house, world):
    public = Client()
    worker = verified_client(world.county_caseworker)
    pages = [
        (public, f"/find/services/{safe_house.pk}/"),
        (public, "/find/?q=safe+house"),
        (public, f"/find/?zip={SECRET_ZIP}&radius=5"),
        (worker, f"/directory/services/{safe_house.pk}/"),
        (worker, "/directory/?q=lantern"),
        (worker, f"/directory/?zip={SECRET_ZIP}&radius=5"),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _clean(response.content.decode(), url)
    page = public.get(f"/find/services/{safe_house.pk}/").content.decode()
    assert "Call to arrange." in page
    assert "Confidential location" in page


def test_not_found_by_its_street_nor_placed_by_distance(safe_house, client):
    assert "Lantern" not in client.get("/find/?q=evergreen+hideaway").content.decode()
    near = client.get(f"/find/?q=safe+house&zip={SECRET_ZIP}&radius=5").content.decode()
    assert "Lantern Safe House" not in near  # no distance, so not in a distance search
    anywhere = client.get("/find/?q=safe+house").content.decode()
    assert "Lantern Safe House" in anywhere
    assert "miles away" not in anywhere
