"""The search rows (index.py): how they are built, that searching through their tokens and grid
cells gives exactly what a plain query of the directory gives, and that every write keeps them
up to date (on both databases' engines)."""

from __future__ import annotations

import importlib
import json
import math
import random
import uuid

import pytest
from django.contrib.admin.sites import AdminSite
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeharbor.directory import admin as directory_admin
from safeharbor.directory import importer, index, search, services, taxonomy
from safeharbor.directory.choices import Gender
from safeharbor.directory.models import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceSearch,
)
from safeharbor.directory.search import Criteria, search_services

from .factories import load, new_id, service_object

pytestmark = pytest.mark.django_db
SF = (37.7749, -122.4194)
LANGUAGES = ("en", "es", "zh", "vi")
GENDERS = tuple(Gender.values)
NEEDS = ("need-shelter", "need-food", "need-legal", "need-counseling")
WORDS = ("shelter", "food", "legal", "counseling", "youth", "harbor", "night", "clinic")
POSTCODES = ("94103", "94110", "94601")


def names(criteria: Criteria) -> list[str]:
    return [h.service.name for h in search_services(criteria, per_page=100).hits]


# --------------------------------------------------------------------------- rows


def test_a_row_holds_every_filter_and_the_cells_of_public_places():
    shared = {"id": new_id(), "name": "Bright Path Society", "description": "An org."}
    load(
        service_object(
            name="Harbor Night Shelter",
            codes=("need-shelter", taxonomy.EXPLOITED_YOUTH, taxonomy.CRISIS_24_7, "gender-female"),
            languages=("en", "es"),
            ages=(12, 17),
            free=True,
            capacity=(3, 10),
            lat=37.25,
            lon=-122.5,
            postal_code="94110",
            organization=shared,
        )
    )
    row = ServiceSearch.objects.get()
    service = Service.objects.get()
    assert (row.active, row.minimum_age, row.maximum_age) == (True, 12, 17)
    assert (row.free, row.capacity_available, row.exploited_youth, row.open_24_7) == (
        True,
        True,
        True,
        True,
    )
    assert row.genders == "female"
    assert row.languages == "en es"
    assert row.organization_id == uuid.UUID(shared["id"])
    assert row.points == "37.25,-122.5"
    tokens = set(row.document.split())
    assert {
        index.term_token(taxonomy.term_id("need-shelter")),
        index.language_token("es"),
        index.FREE,
        index.CAPACITY,
        index.postcode_token("94110"),
        index.organization_token(uuid.UUID(shared["id"])),
        *index.cell_tokens(37.25, -122.5),
    } <= tokens
    assert index.GENDER_ANY not in tokens
    assert "_c25_1149_950" in tokens  # 37.25 / 0.25 = 149; -122.5 / 0.25 = -490 = 950 mod 1440
    assert "_c0625_1596_3800" in tokens  # 37.25 * 16 = 596; -122.5 * 16 = -1960 = 3800 mod 5760
    # the words: name, organisation, term names, never an address
    assert {"harbor", "night", "shelter", "bright", "path", "society", "crisis"} <= set(
        row.text.split()
    )
    assert "market" not in row.document
    assert service.search_text == row.text
    # no searched word can reach a token, even as a prefix
    assert all("_" not in w for w in search.words("_t _free c25_1149 t_00"))


def test_a_confidential_location_gives_no_cell_no_point_no_postcode():
    load(service_object(name="Safe House", confidential=True, postal_code="94110"))
    row = ServiceSearch.objects.get()
    assert row.points == ""
    assert not [t for t in row.document.split() if t.startswith(("_c", "_p"))]
    assert names(Criteria(near=SF, radius_miles=50)) == []
    assert names(Criteria(postcode="94110")) == []
    assert names(Criteria(text="safe house")) == ["Safe House"]


# --------------------------------------------------------------------------- same results


def _reference(criteria: Criteria) -> list[uuid.UUID]:
    """What the search must find, by plain queries and Python (the semantics before the search
    rows): every filter straight from the HSDS objects."""
    found: list[tuple[object, uuid.UUID]] = []
    typed = search.query_words(criteria.text)
    for service in Service.objects.select_related("organization").prefetch_related(
        "languages", "cost_options", "service_at_locations__location__addresses"
    ):
        terms = dict(service_attributes(service.pk))
        if criteria.active_only and service.status != "active":
            continue
        text = search.words(
            " ".join(
                [
                    service.name,
                    service.alternate_name,
                    service.description,
                    service.organization.name,
                    *terms.values(),
                ]
            )
        )
        if not all(any(w.startswith(t) for w in text) for t in typed):
            continue
        if criteria.need is not None and criteria.need not in terms:
            continue
        if criteria.age is not None and not (
            (service.minimum_age is None or service.minimum_age <= criteria.age)
            and (service.maximum_age is None or service.maximum_age >= criteria.age)
        ):
            continue
        genders = {t.id for t in taxonomy.GENDER_TERMS} & set(terms)
        if (
            criteria.gender
            and genders
            and (taxonomy.term_id(f"gender-{criteria.gender}") not in genders)
        ):
            continue
        if criteria.language and criteria.language not in {x.code for x in service.languages.all()}:
            continue
        amounts = [c.amount for c in service.cost_options.all()]
        if criteria.free and not (0 in amounts and not any(a and a > 0 for a in amounts)):
            continue
        if criteria.exploited_youth and taxonomy.term_id(taxonomy.EXPLOITED_YOUTH) not in terms:
            continue
        capacity = getattr(service, "capacity", None)
        if criteria.capacity and not (capacity and capacity.available > 0):
            continue
        if criteria.organization_id and service.organization_id != criteria.organization_id:
            continue
        public = [
            sal.location
            for sal in service.service_at_locations.all()
            if not sal.location.is_confidential
        ]
        if criteria.postcode and criteria.postcode not in {
            a.postal_code for loc in public for a in loc.addresses.all()
        }:
            continue
        if criteria.near is not None:
            distances = [
                search.haversine_miles(criteria.near, (loc.latitude, loc.longitude))
                for loc in public
                if loc.latitude is not None and loc.longitude is not None
            ]
            if not distances or min(distances) > criteria.radius_miles:
                continue
            found.append(((min(distances), service.pk), service.pk))
        else:
            found.append(((service.name, service.pk), service.pk))
    return [pk for _key, pk in sorted(found, key=lambda item: item[0])]  # type: ignore[arg-type,return-value]


def service_attributes(service_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    from safeharbor.directory.models import Attribute

    return list(
        Attribute.objects.filter(link_entity="service", link_id=service_id).values_list(
            "taxonomy_term_id", "taxonomy_term__name"
        )
    )


@pytest.fixture
def varied_directory():
    """Twenty services with every combination the filters look at, around San Francisco and
    across cell borders (multiples of 0.25°), two organisations shared."""
    rng = random.Random(7)
    orgs = [
        {"id": new_id(), "name": "Open Door Youth", "description": "An org."},
        {"id": new_id(), "name": "Lantern", "description": "An org."},
    ]
    objects = []
    for i in range(20):
        codes = tuple(rng.sample(NEEDS, rng.randint(0, 2)))
        if rng.random() < 0.4:
            codes += (taxonomy.EXPLOITED_YOUTH,)
        if rng.random() < 0.4:
            codes += tuple(f"gender-{g}" for g in rng.sample(GENDERS, rng.randint(1, 2)))
        low = rng.choice((None, 10, 12, 14))
        high = rng.choice((None, 17, 21, 24))
        free = rng.choice((None, True, False))
        objects.append(
            service_object(
                name=f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i}",
                description=" ".join(rng.sample(WORDS, 2)),
                codes=codes,
                languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 2))),
                ages=(low, high),
                free=free,
                capacity=rng.choice((None, (0, 4), (2, 4))),
                lat=37.75 + rng.choice((-1, 1)) * rng.choice((0.0, 1e-9, 0.01, 0.2, 0.6)),
                lon=-122.25 + rng.choice((-1, 1)) * rng.choice((0.0, 1e-9, 0.01, 0.3, 0.8)),
                postal_code=rng.choice(POSTCODES),
                confidential=rng.random() < 0.2,
                status="active" if rng.random() < 0.85 else "inactive",
                organization=orgs[i % 2] if i < 8 else None,
            )
        )
    load(*objects)
    return orgs


criteria_strategy = st.builds(
    Criteria,
    text=st.sampled_from(["", *WORDS, "shel", "night youth", "co"]),
    need=st.sampled_from([None, *(taxonomy.term_id(n) for n in NEEDS)]),
    age=st.sampled_from([None, 9, 12, 15, 17, 22, 30]),
    gender=st.sampled_from(["", *GENDERS]),
    language=st.sampled_from(["", *LANGUAGES]),
    near=st.sampled_from(
        [None, SF, (37.75, -122.25), (37.0, -122.0), (38.2, -121.7), (37.75, -121.5)]
    ),
    radius_miles=st.sampled_from([1.0, 5.0, 17.26, 25.0, 60.0, 200.0]),
    free=st.booleans(),
    exploited_youth=st.booleans(),
    capacity=st.booleans(),
    postcode=st.sampled_from(["", *POSTCODES]),
    active_only=st.booleans(),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(criteria=criteria_strategy)
def test_tokens_and_cells_give_what_a_plain_query_gives(varied_directory, criteria):
    results = search_services(criteria, per_page=100)
    assert not results.corrected
    got = [h.service.pk for h in results.hits]
    assert got == _reference(criteria)
    assert results.total == len(got)
    if criteria.near is not None:
        for hit in results.hits:
            assert hit.distance_miles is not None
            assert hit.distance_miles <= criteria.radius_miles


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(organization=st.integers(0, 1))
def test_the_organisation_filter(varied_directory, organization):
    org_id = uuid.UUID(varied_directory[organization]["id"])
    criteria = Criteria(organization_id=org_id, active_only=False)
    assert [h.service.pk for h in search_services(criteria, per_page=100).hits] == _reference(
        criteria
    )


# --------------------------------------------------------------------------- distance edges


def test_distance_is_exact_at_cell_borders():
    # Two services either side of the 0.25°, 1° and 4° borders at latitude 36 / longitude -120
    load(
        service_object(name="North East", lat=36.0, lon=-120.0),
        service_object(name="South West", lat=35.9999999, lon=-120.0000001),
        service_object(name="Far", lat=36.0, lon=-120.6),
    )
    point = (36.0, -120.0)
    results = search_services(Criteria(near=point, radius_miles=0.01))
    assert [h.service.name for h in results.hits] == ["North East", "South West"]
    assert results.hits[0].distance_miles == 0
    far = search.haversine_miles(point, (36.0, -120.6))
    assert names(Criteria(near=point, radius_miles=far)) == ["North East", "South West", "Far"]
    assert names(Criteria(near=point, radius_miles=far - 1e-6)) == ["North East", "South West"]


def test_near_the_antimeridian_and_the_poles():
    load(
        service_object(name="Date Line East", lat=0.0, lon=179.95),
        service_object(name="Date Line West", lat=0.0, lon=-179.95),
        service_object(name="North Pole", lat=89.99, lon=120.0),
        service_object(name="South Pole", lat=-90.0, lon=0.0),
    )
    assert names(Criteria(near=(0.0, 180.0), radius_miles=5)) == [
        "Date Line East",
        "Date Line West",
    ]
    assert names(Criteria(near=(0.0, -179.99), radius_miles=10)) == [
        "Date Line West",
        "Date Line East",
    ]
    assert names(Criteria(near=(89.99, -60.0), radius_miles=5)) == ["North Pole"]
    assert names(Criteria(near=(-89.9, 45.0), radius_miles=10)) == ["South Pole"]
    assert len(names(Criteria(near=(45.0, 0.0), radius_miles=500))) == 0


@given(
    lat=st.floats(-89.0, 89.0),
    lon=st.floats(-180.0, 180.0),
    miles=st.floats(0.1, 500.0),
    bearing=st.floats(0, 2 * math.pi),
    fraction=st.floats(0.0, 0.999),
)
@settings(max_examples=300, deadline=None)
def test_the_cells_chosen_always_hold_the_whole_circle(lat, lon, miles, bearing, fraction):
    """Any point within the radius lies in one of the cells the search adds to its match."""
    angular = miles * fraction / search.EARTH_RADIUS_MILES
    phi, lam = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi) * math.cos(angular) + math.cos(phi) * math.sin(angular) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(angular) * math.cos(phi),
        math.cos(angular) - math.sin(phi) * math.sin(phi2),
    )
    target = (math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180)
    if search.haversine_miles((lat, lon), target) > miles:
        return  # rounding put it just outside
    cells = search.covering_cells((lat, lon), miles)
    if cells is not None:
        assert set(index.cell_tokens(*target)) & set(cells)
        assert len(cells) <= search.MAX_COARSE_CELLS


# --------------------------------------------------------------------------- kept up to date


def _fts_rows() -> int:
    if connection.vendor != "sqlite":
        return ServiceSearch.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM directory_servicesearch_fts")
        return int(cursor.fetchone()[0])


@pytest.fixture
def admin_request(world):
    request = RequestFactory().post("/")
    request.user = world.county_admin
    return request


def test_edits_and_capacity_updates_reindex(world):
    county = {"id": new_id(), "name": "County Services", "description": "An org."}
    load(service_object(name="Harbor Drop-In", capacity=(0, 5), organization=county))
    service = Service.objects.get()
    organization = service.organization
    organization.agency = world.county
    organization.save()
    services.service_update(actor=world.county_admin, service=service, name="Lighthouse Drop-In")
    assert names(Criteria(text="lighthouse")) == ["Lighthouse Drop-In"]
    assert names(Criteria(text="harbor")) == []
    assert names(Criteria(capacity=True)) == []
    services.capacity_update(
        actor=world.county_admin, service=service, available=2, maximum=5, unit="beds"
    )
    assert names(Criteria(capacity=True)) == ["Lighthouse Drop-In"]
    services.service_update(actor=world.county_admin, service=service, status="inactive")
    assert names(Criteria(text="lighthouse")) == []


def test_admin_saves_and_deletes_reindex(admin_request):
    load(
        service_object(name="Harbor Clinic", lat=SF[0], lon=SF[1]),
        service_object(name="Oak Shelter", lat=SF[0], lon=SF[1]),
    )
    site = AdminSite()
    clinic = Service.objects.get(name="Harbor Clinic")
    location = Location.objects.get(service_at_locations__service=clinic)
    location.is_confidential = True
    directory_admin.LocationAdmin(Location, site).save_model(admin_request, location, None, True)
    assert names(Criteria(near=SF, radius_miles=5)) == ["Oak Shelter"]
    assert ServiceSearch.objects.get(pk=clinic.pk).points == ""

    organization = clinic.organization
    organization.name = "Redwood Collective"
    directory_admin.OrganizationAdmin(Organization, site).save_model(
        admin_request, organization, None, True
    )
    assert names(Criteria(text="redwood")) == ["Harbor Clinic"]

    shelter = Service.objects.get(name="Oak Shelter")
    shelter.name = "Oak Night Shelter"
    directory_admin.ServiceAdmin(Service, site).save_model(admin_request, shelter, None, True)
    assert names(Criteria(text="night")) == ["Oak Night Shelter"]

    assert _fts_rows() == 2
    directory_admin.ServiceAdmin(Service, site).delete_model(admin_request, shelter)
    assert _fts_rows() == 1
    assert names(Criteria(text="oak")) == []
    directory_admin.OrganizationAdmin(Organization, site).delete_queryset(
        admin_request, Organization.objects.all()
    )
    assert _fts_rows() == 0
    assert ServiceSearch.objects.count() == 0


def test_a_reimport_that_moves_a_location_or_renames_a_term_reindexes():
    service = service_object(name="Cedar Youth Center", lat=SF[0], lon=SF[1])
    load(service)
    assert names(Criteria(near=SF, radius_miles=2)) == ["Cedar Youth Center"]
    location = service["service_at_locations"][0]["location"]
    moved = {**location, "latitude": 34.05, "longitude": -118.25}
    load(
        {
            **service,
            "service_at_locations": [{**service["service_at_locations"][0], "location": moved}],
        }
    )
    assert names(Criteria(near=SF, radius_miles=2)) == []
    assert names(Criteria(near=(34.05, -118.25), radius_miles=2)) == ["Cedar Youth Center"]
    assert ServiceAtLocation.objects.count() == 1


def test_reindex_command_rebuilds_lost_rows(capsys):
    from django.core.management import call_command

    load(service_object(name="Willow Shelter"))
    ServiceSearch.objects.all().delete()
    assert names(Criteria(text="willow")) == []
    call_command("reindex_directory")
    assert names(Criteria(text="willow")) == ["Willow Shelter"]
    assert "1 services" in capsys.readouterr().out


def test_facets_count_at_most_the_limit(monkeypatch):
    load(
        *(service_object(name=f"Shelter {i}", codes=("need-shelter",), free=True) for i in range(5))
    )
    monkeypatch.setattr(search, "FACET_LIMIT", 3)
    results = search_services(Criteria(text="shelter"), with_facets=True)
    assert results.total == 5
    assert results.facets_sampled
    assert {f.key: f.count for f in results.facets["other"]}["free"] == 3
    results = search_services(Criteria(text="shelter", near=SF), with_facets=True)
    assert results.facets_sampled
    monkeypatch.setattr(search, "FACET_LIMIT", 10)
    results = search_services(Criteria(text="shelter"), with_facets=True)
    assert not results.facets_sampled
    assert {f.key: f.count for f in results.facets["needs"]}[
        str(taxonomy.term_id("need-shelter"))
    ] == 5


def _stored_rows() -> dict[uuid.UUID, tuple]:
    rows = {
        row["service_id"]: tuple(sorted(row.items()))
        for row in ServiceSearch.objects.values(*index._ROW_COLUMNS)
    }
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid, service_id, body FROM directory_servicesearch_fts")
            for rowid, service_id, body in cursor.fetchall():
                pk = uuid.UUID(service_id)
                rows[pk] = (*rows[pk], rowid, body)
    return rows


def test_rows_built_from_the_import_equal_rows_read_back():
    """The importer builds the rows of new services from the objects it holds; reading the
    same services back from the database (``index.rebuild``) must give exactly those rows."""
    from safeharbor.directory.demo import DirectoryGenerator

    generator = DirectoryGenerator(11)
    generated = [generator.service() for _ in range(40)]
    # A new service at a confidential location already here (its flag is read back), one
    # at a public one already here (its address too), and one without a location.
    shelter = service_object(name="Old Shelter", confidential=True, postal_code="94110")
    clinic = service_object(name="Old Clinic", postal_code="94601", lat=37.8, lon=-122.27)
    load(shelter, clinic)
    at_shelter = service_object(name="New Outreach")
    at_shelter["service_at_locations"][0]["location"] = {
        **shelter["service_at_locations"][0]["location"],
        "attributes": [],
        "addresses": [],
    }
    at_clinic = service_object(name="New Clinic Hours", organization=clinic["organization"])
    at_clinic["service_at_locations"][0]["location_id"] = clinic["service_at_locations"][0][
        "location"
    ]["id"]
    del at_clinic["service_at_locations"][0]["location"]
    nowhere = service_object(name="Phone Line", codes=("need-legal",), free=True)
    nowhere["service_at_locations"] = []
    load(*generated, at_shelter, at_clinic, nowhere)
    assert ServiceSearch.objects.count() == 45
    built = _stored_rows()
    assert index.rebuild_all() == 45
    assert _stored_rows() == built
    row = ServiceSearch.objects.get(service_id=at_shelter["id"])
    assert row.points == ""
    assert index.postcode_token("94110") not in row.document
    row = ServiceSearch.objects.get(service_id=at_clinic["id"])
    assert row.points == "37.8,-122.27"
    assert index.postcode_token("94601") in row.document


def test_a_reimport_that_renames_a_term_reindexes():
    term = {
        "id": new_id(),
        "code": "night-owl",
        "name": "Night owl hours",
        "description": "Open late.",
    }
    service = service_object(name="Cedar Youth Center")
    service["attributes"].append(
        {"id": new_id(), "link_id": service["id"], "link_entity": "service", "taxonomy_term": term}
    )
    load(service)
    assert names(Criteria(text="owl")) == ["Cedar Youth Center"]
    # the term alone, as a taxonomy feed would send it: the service is not in this import
    renamed = {**term, "name": "Late evening hours"}
    source = importer.Source("terms.json", json.dumps([renamed]).encode())
    report = services.directory_import(actor=None, json_sources=[(source, "taxonomy_term")])
    assert report.ok, [str(e) for e in report.errors]
    assert names(Criteria(text="owl")) == []
    assert names(Criteria(text="evening")) == ["Cedar Youth Center"]


def test_a_reimport_that_moves_a_language_cost_or_attribute_reindexes_both_services():
    """A language, cost option or attribute given to another service in a later import leaves
    the service it was on: that service's row must lose it too, though it is not in the import."""
    first = service_object(name="Cedar Youth Center", languages=("es",), free=True)
    legal_need = _need(first["id"], "need-legal")
    first["attributes"].append(legal_need)
    second = service_object(name="Birch Drop-in", languages=("en",))
    load(first, second)
    assert names(Criteria(language="es")) == ["Cedar Youth Center"]
    assert names(Criteria(free=True)) == ["Cedar Youth Center"]
    legal = Criteria(need=taxonomy.term_id("need-legal"))
    assert names(legal) == ["Cedar Youth Center"]
    moved = {
        **second,
        "languages": [{**first["languages"][0], "service_id": second["id"]}],
        "cost_options": [{**first["cost_options"][0], "service_id": second["id"]}],
        "attributes": [{**legal_need, "link_id": second["id"]}],
    }
    load(moved)
    assert names(Criteria(language="es")) == ["Birch Drop-in"]
    assert names(Criteria(free=True)) == ["Birch Drop-in"]
    assert names(legal) == ["Birch Drop-in"]
    built = _stored_rows()
    index.rebuild_all()
    assert _stored_rows() == built


def _need(service_id: str, code: str) -> dict:
    return {
        "id": new_id(),
        "link_id": service_id,
        "link_entity": "service",
        "taxonomy_term_id": str(taxonomy.term_id(code)),
    }


@pytest.mark.django_db(transaction=True)
def test_flush_leaves_no_full_text_rows_behind_and_a_search_counts_only_services_there() -> None:
    near = (37.73, -122.39)
    load(service_object(name="Bayview Teen Clinic", lat=near[0], lon=near[1]))
    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM directory_servicesearch_fts")
            assert cursor.fetchone()[0] == 0
    load(service_object(name="Mission Youth Clinic", lat=near[0], lon=near[1]))
    found = search_services(Criteria(text="clinic", near=near, radius_miles=25))
    assert found.total == 1
    assert [hit.service.name for hit in found.hits] == ["Mission Youth Clinic"]


def test_migration_0006_adds_the_fine_cells_that_rows_are_built_with():
    """The migration's tokens (SQL on PostgreSQL, a Python function on SQLite) are those of
    ``index.cell_tokens``, for rows with several places, across the antimeridian and south of
    the equator; the full-text engine then finds the rows by them."""
    migration = importlib.import_module(
        "safeharbor.directory.migrations.0006_search_rows_fine_cells"
    )
    two = service_object(name="Two Places", lat=37.25, lon=-122.5)
    location = two["service_at_locations"][0]["location"]
    extra = {**location, "id": new_id(), "latitude": -33.9, "longitude": 179.97}
    extra["addresses"] = [{**a, "id": new_id()} for a in location["addresses"]]
    two["service_at_locations"].append({"id": new_id(), "location": extra})
    load(two, service_object(name="Far West", lat=51.5, lon=-179.99), service_object(name="None"))
    built = {r.pk: set(r.document.split()) for r in ServiceSearch.objects.all()}
    fine = {pk: {t for t in tokens if t.startswith("_c0625_")} for pk, tokens in built.items()}
    assert sorted(len(cells) for cells in fine.values()) == [1, 1, 2]  # "None": SF by default
    with connection.cursor() as cursor:
        for row in ServiceSearch.objects.all():
            stripped = " ".join(t for t in row.document.split() if not t.startswith("_c0625_"))
            ServiceSearch.objects.filter(pk=row.pk).update(document=stripped)
            if connection.vendor == "sqlite":
                cursor.execute(
                    "UPDATE directory_servicesearch_fts SET body = %s WHERE service_id = %s",
                    [stripped, row.pk.hex],
                )
    token = next(iter(fine[Service.objects.get(name="Far West").pk]))
    assert not ServiceSearch.objects.filter(document__contains=token).exists()

    class Editor:
        connection = connection

    if connection.vendor == "postgresql":  # the test's inserts leave deferred checks pending
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    migration.add_fine_cells(None, Editor())
    assert {r.pk: set(r.document.split()) for r in ServiceSearch.objects.all()} == built
    found = search._match_filter(ServiceSearch.objects.all(), search.Match(tokens=[token]))
    assert [r.service.name for r in found] == ["Far West"]
    across = Criteria(near=(51.5, 179.99), radius_miles=2)  # over the antimeridian
    assert [h.service.name for h in search_services(across, total_cap=10).hits] == ["Far West"]


def test_optimize_keeps_every_search_and_puts_the_rows_in_place_order(varied_directory, capsys):
    searches = [
        Criteria(near=SF, radius_miles=60),
        Criteria(text="shelter", near=(37.75, -122.25), radius_miles=25, free=True),
        Criteria(language="es", near=(38.2, -121.7), radius_miles=200),
        Criteria(text="night youth"),
    ]
    before = [[h.service.pk for h in search_services(c, per_page=100).hits] for c in searches]
    if connection.vendor == "postgresql":
        # Imports write in place order: put the rows in the order of their (random) ids first.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("CLUSTER directory_servicesearch USING directory_servicesearch_pkey")
        assert _physical_places() != sorted(_physical_places())
    call_command("optimize_directory")
    assert "Optimized the directory's search rows" in capsys.readouterr().out
    after = [[h.service.pk for h in search_services(c, per_page=100).hits] for c in searches]
    assert after == before
    assert any(before)
    if connection.vendor == "postgresql":
        # The table's physical order (ctid) is now that of the places (migration 0007's index).
        places = _physical_places()
        assert len(places) > 1
        assert places == sorted(places)


def _physical_places() -> list[int]:
    """The search rows' place numbers (``index.place_number``), in the table's order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT points FROM directory_servicesearch WHERE points <> '' ORDER BY ctid"
        )
        return [index.place_number(points) for (points,) in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index")
@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    more=st.sampled_from(["", " 1.5,2.5"]),
)
def test_the_place_index_computes_place_number(lat, lon, more):
    """Migration 0007's index (what CLUSTER orders by) is ``index.place_number`` in SQL,
    south of the equator, across the antimeridian and at the poles too."""
    migration = importlib.import_module(
        "safeharbor.directory.migrations.0007_search_rows_place_order"
    )
    points = f"{lat!r},{lon!r}{more}"
    sql = f"SELECT {migration.PLACE_NUMBER_SQL} FROM (SELECT %s::text AS points) p"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [points])
        assert cursor.fetchone()[0] == index.place_number(points)
        cursor.execute(sql, [""])
        assert cursor.fetchone()[0] is None  # sorted after every place, as _NO_PLACE is


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_an_import_writes_new_search_rows_in_place_order():
    with connection.cursor() as cursor:
        # A new file for the table: no free space left in it by earlier tests' rolled-back rows
        # (rows go wherever the table has room; in order where they are appended).
        cursor.execute("TRUNCATE directory_servicesearch")
    rng = random.Random(7)
    places = [(rng.uniform(32.5, 42.0), rng.uniform(-124.4, -114.1)) for _ in range(30)]
    load(*(service_object(name=f"Spot {i}", lat=a, lon=b) for i, (a, b) in enumerate(places)))
    numbers = _physical_places()
    assert len(set(numbers)) > 20
    assert numbers == sorted(numbers)


def _fts_rowids() -> dict[uuid.UUID, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT service_id, rowid FROM directory_servicesearch_fts")
        return {uuid.UUID(service_id): rowid for service_id, rowid in cursor.fetchall()}


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_full_text_rows_are_numbered_by_place():
    places = [(37.7749, -122.4194), (34.0522, -118.2437), (34.0522, -118.3), (32.7157, -117.1611)]
    objects = [
        service_object(name=f"Place {i} Clinic", lat=a, lon=b) for i, (a, b) in enumerate(places)
    ]
    load(*objects)
    rowids = _fts_rowids()
    by_rowid = sorted(rowids, key=rowids.__getitem__)
    cell = {
        uuid.UUID(o["id"]): (math.floor(p[0] * 16), math.floor(p[1] * 16))
        for o, p in zip(objects, places, strict=True)
    }
    assert [cell[pk] for pk in by_rowid] == sorted(cell.values())
    for pk, rowid in rowids.items():
        assert rowid >> 39 == index.fts_base(pk, ServiceSearch.objects.get(pk=pk).points) >> 39


def _with_id(service: dict, new: str) -> dict:
    return json.loads(json.dumps(service).replace(service["id"], new))


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_services_sharing_a_full_text_base_keep_their_own_rows():
    # Two services at one place whose ids share their first 48 bits: the same base rowid.
    spot = (37.7749, -122.4194)
    alder = service_object(name="Alder Youth Shelter", lat=spot[0], lon=spot[1])
    birch = service_object(name="Birch Youth Shelter", lat=spot[0], lon=spot[1])
    alder = _with_id(alder, "01234567-89ab-4000-a000-000000000001")
    birch = _with_id(birch, "01234567-89ab-4000-a000-000000000002")
    load(alder, birch)
    near = Criteria(text="shelter", near=spot, radius_miles=5)
    assert sorted(names(near)) == ["Alder Youth Shelter", "Birch Youth Shelter"]
    rowids = _fts_rowids()
    assert sorted(rowids.values()) == [min(rowids.values()), min(rowids.values()) + 1]
    # Re-importing one replaces its own row, never the other's.
    alder["name"] = "Cedar Youth Shelter"
    load(alder)
    assert sorted(names(near)) == ["Birch Youth Shelter", "Cedar Youth Shelter"]
    assert len(_fts_rowids()) == 2
    index.forget([uuid.UUID(birch["id"])])
    assert names(near) == ["Cedar Youth Shelter"]
    assert list(_fts_rowids()) == [uuid.UUID(alder["id"])]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_migration_0008_numbers_existing_rows_by_place_and_back():
    migration = importlib.import_module(
        "safeharbor.directory.migrations.0008_fts_rows_in_place_order"
    )
    spot = (34.0522, -118.2437)
    first = _with_id(
        service_object(name="Elm Clinic", lat=spot[0], lon=spot[1]), str(uuid.UUID(int=1 << 100))
    )
    second = _with_id(
        service_object(name="Fir Clinic", lat=spot[0], lon=spot[1]),
        str(uuid.UUID(int=(1 << 100) + (1 << 70))),
    )
    load(
        first,
        second,
        service_object(name="Gum Clinic"),
        service_object(name="Hazel Clinic", lat=32.7, lon=-117.2),
    )
    written = _fts_rowids()
    searches = [Criteria(text="clinic", near=spot, radius_miles=500), Criteria(text="clinic")]
    found = [names(c) for c in searches]

    class Editor:
        connection = connection

    migration.by_id(None, Editor())
    assert _fts_rowids() == {pk: pk.int >> 65 for pk in written}
    migration.by_place(None, Editor())
    assert _fts_rowids() == written  # as the import numbered them, the shared base included
    assert [names(c) for c in searches] == found
    assert len(found[0]) == 4
