"""Provider upkeep: an agency's administrators edit their organisation's services and capacity;
nobody else can; every service shows how long ago it was updated."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import verified_client
from safeharbor.directory import search, selectors, services, views
from safeharbor.directory.models import Capacity, Organization, Service

from .factories import load, service_object

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)


@pytest.fixture
def shelter(world):
    load(
        service_object(
            name="County Youth Shelter", capacity=(1, 4), last_modified="2026-01-15T12:00:00+00:00"
        )
    )
    organization = Organization.objects.get()
    organization.agency = world.county
    organization.save()
    return Service.objects.get()


def test_the_agency_admin_edits_and_it_counts_as_updated_now(world, shelter):
    with mock.patch("safeharbor.core.clock.now", return_value=NOW):
        services.service_update(
            actor=world.county_admin, service=shelter, name="County Youth Refuge", minimum_age=12
        )
    shelter.refresh_from_db()
    assert shelter.name == "County Youth Refuge"
    assert shelter.last_modified == NOW
    assert "refuge" in shelter.search_text
    assert [h.service.pk for h in search.search_services(search.Criteria(text="refuge")).hits] == [
        shelter.pk
    ]
    event = AuditEvent.objects.get(object_type="directory.service")
    assert event.actor == world.county_admin
    assert "name" in event.reason
    assert event.youth_id is None


@pytest.mark.parametrize(
    "who", ["county_caseworker", "county_supervisor", "other_caseworker", "clinic_clinician"]
)
def test_nobody_else_may_edit(world, shelter, who):
    with pytest.raises(PermissionDenied):
        services.service_update(actor=getattr(world, who), service=shelter, name="X")
    with pytest.raises(PermissionDenied):
        services.capacity_update(
            actor=getattr(world, who), service=shelter, available=1, maximum=2, unit="beds"
        )
    assert Service.objects.get().name == "County Youth Shelter"


def test_an_admin_of_another_agency_may_not_edit(world, shelter):
    from safeharbor.accounts.services import user_create

    valley_admin = user_create(
        username="valley_admin",
        password="correct horse battery staple",
        agency=world.valley,
        role="agency_admin",
    )
    with pytest.raises(PermissionDenied):
        services.service_update(actor=valley_admin, service=shelter, name="X")


def test_bad_values_save_nothing(world, shelter):
    with pytest.raises(ValidationError):
        services.service_update(
            actor=world.county_admin, service=shelter, minimum_age=20, maximum_age=10
        )
    with pytest.raises(ValidationError):
        services.capacity_update(
            actor=world.county_admin, service=shelter, available=9, maximum=4, unit="beds"
        )
    with pytest.raises(ValueError, match="Not editable"):
        services.service_update(actor=world.county_admin, service=shelter, search_text="x")
    shelter.refresh_from_db()
    assert shelter.minimum_age is None
    assert Capacity.objects.get().available == 1
    assert not AuditEvent.objects.filter(object_type__startswith="directory.s").exists()


def test_capacity_update(world, shelter):
    with mock.patch("safeharbor.core.clock.now", return_value=NOW):
        services.capacity_update(
            actor=world.county_admin, service=shelter, available=3, maximum=4, unit="beds"
        )
    capacity = Capacity.objects.get()
    assert (capacity.available, capacity.updated) == (3, NOW)
    shelter.refresh_from_db()
    assert shelter.last_modified == NOW


def test_pages(world, shelter):
    admin = verified_client(world.county_admin)
    with mock.patch("safeharbor.core.clock.now", return_value=NOW):
        page = admin.get(f"/directory/services/{shelter.pk}/").content.decode()
    assert "Updated 45 days ago" in page
    assert "Update capacity" in page
    assert admin.get("/directory/mine/").status_code == 200
    response = admin.post(
        f"/directory/services/{shelter.pk}/capacity/",
        {"available": "2", "maximum": "4", "unit": "beds"},
    )
    assert response.status_code == 302
    assert Capacity.objects.get().available == 2
    response = admin.post(
        f"/directory/services/{shelter.pk}/capacity/",
        {"available": "7", "maximum": "4", "unit": "beds"},
    )
    assert response.status_code == 200
    assert Capacity.objects.get().available == 2
    form = admin.get(f"/directory/services/{shelter.pk}/edit/")
    assert form.status_code == 200
    data = dict.fromkeys(services.EDITABLE_FIELDS, "")
    data.update(name="County Youth Haven", status="active", description="Beds.")
    response = admin.post(f"/directory/services/{shelter.pk}/edit/", data)
    assert response.status_code == 302
    assert Service.objects.get().name == "County Youth Haven"


def test_page_permissions(world, shelter):
    caseworker = verified_client(world.county_caseworker)
    assert caseworker.get(f"/directory/services/{shelter.pk}/").status_code == 200
    assert (
        "Update capacity"
        not in caseworker.get(f"/directory/services/{shelter.pk}/").content.decode()
    )
    assert caseworker.get(f"/directory/services/{shelter.pk}/edit/").status_code == 403
    assert caseworker.get(f"/directory/services/{shelter.pk}/capacity/").status_code == 403
    assert caseworker.get("/directory/mine/").status_code == 403
    anonymous = Client()
    for url in ("/directory/", f"/directory/services/{shelter.pk}/edit/"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_workers_search_page_and_its_query_count(world, shelter, django_assert_max_num_queries):
    client = verified_client(world.county_caseworker)
    client.get("/directory/")
    with django_assert_max_num_queries(30):
        response = client.get("/directory/?q=shelter&zip=94103&free=on")
    assert response.status_code == 200
    assert "County Youth Shelter" in client.get("/directory/?q=shelter").content.decode()


def test_workers_search_page_says_more_than_beyond_the_cap(world, shelter, monkeypatch):
    load(*(service_object(name=f"Night Shelter {i}") for i in range(4)))
    monkeypatch.setattr(search, "TOTAL_CAP", 2)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    client = verified_client(world.county_caseworker)
    for url in ("/directory/?q=shelter", "/directory/?q=shelter&zip=94103"):
        content = client.get(url).content.decode()
        assert "More than 2 services found" in content
        assert "Counts are for the first" in content  # the facets are a sample
    monkeypatch.setattr(search, "TOTAL_CAP", 5)
    assert "5 services found" in client.get("/directory/?q=shelter&zip=94103").content.decode()


def test_days_since_update(shelter):
    assert selectors.days_since_update(shelter, datetime.date(2026, 1, 25)) == 10
