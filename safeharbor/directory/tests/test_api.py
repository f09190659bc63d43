"""The HSDS API: public, read-only, paginated as HSDS pages, valid against the official
OpenAPI response schemas, with its query parameters."""

from __future__ import annotations

import pytest
from django.test import Client

from safeharbor.directory import schemas, taxonomy
from safeharbor.directory.demo import as_source, generate
from safeharbor.directory.models import Organization, Service
from safeharbor.directory.services import directory_import

from .factories import load, service_object

pytestmark = pytest.mark.django_db
API = "/api/hsds"


@pytest.fixture
def directory():
    directory_import(actor=None, json_sources=[(as_source(generate(seed=5, count=30)), "service")])
    load(
        service_object(
            name="Mission Drop-in",
            postal_code="94110",
            lat=37.7599,
            lon=-122.4148,
            codes=(taxonomy.EXPLOITED_YOUTH,),
            last_modified="2030-01-01T00:00:00+00:00",
        )
    )
    return Service.objects.count()


def _valid(path: str, body) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in schemas.validator(schemas.response_schema(path)).iter_errors(body)
    ]
    assert not errors, errors


def _get(client: Client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.content
    assert "Set-Cookie" not in response.headers
    return response.json()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/", "/"),
        ("/services", "/services"),
        ("/services/", "/services"),
        ("/organizations", "/organizations"),
        ("/service_at_locations", "/service_at_locations"),
        ("/taxonomies", "/taxonomies"),
        ("/taxonomy_terms", "/taxonomy_terms"),
        ("/services?full=true&per_page=5", "/services"),
    ],
)
def test_responses_validate_against_the_hsds_openapi(client, directory, url, path):
    _valid(path, _get(client, API + url))


def test_service_detail_is_a_full_service(client, directory):
    service = Service.objects.order_by("pk").first()
    body = _get(client, f"{API}/services/{service.pk}")
    _valid("/services/{id}", body)
    assert body["id"] == str(service.pk)
    assert body["service_at_locations"]
    _get(client, f"{API}/services/not-a-uuid", 404)
    _get(client, f"{API}/services/00000000-0000-4000-8000-000000000000", 404)


def test_pagination(client, directory):
    body = _get(client, f"{API}/services?per_page=7&page=2")
    assert body["total_items"] == directory
    assert body["total_pages"] == -(-directory // 7)
    assert (body["page_number"], body["size"], body["first_page"]) == (2, 7, False)
    last = _get(client, f"{API}/services?per_page=7&page={body['total_pages']}")
    assert last["last_page"]
    assert not last["empty"]
    beyond = _get(client, f"{API}/services?per_page=7&page=999")
    assert beyond["empty"]
    assert beyond["contents"] == []
    for bad in ("page=0", "page=x", "per_page=1000", "page=1&page=2"):
        assert "detail" in _get(client, f"{API}/services?{bad}", 400)


def test_filters(client, directory):
    found = _get(client, f"{API}/services?search=mision%20dropin")  # typos corrected
    assert [s["name"] for s in found["contents"]] == ["Mission Drop-in"]
    term = taxonomy.term_id(taxonomy.EXPLOITED_YOUTH)
    with_term = _get(client, f"{API}/services?taxonomy_term_id={term}&per_page=100")
    assert "Mission Drop-in" in {s["name"] for s in with_term["contents"]}
    organization = Organization.objects.get(services__name="Mission Drop-in")
    by_org = _get(client, f"{API}/services?organization_id={organization.pk}")
    assert by_org["total_items"] == 1
    recent = _get(client, f"{API}/services?modified_after=2029-12-31T00:00:00Z")
    assert [s["name"] for s in recent["contents"]] == ["Mission Drop-in"]
    by_zip = _get(client, f"{API}/services?postcode=94110")
    assert "Mission Drop-in" in {s["name"] for s in by_zip["contents"]}
    near = _get(client, f"{API}/services?postcode=94110&proximity=3000")
    assert near["contents"][0]["name"] == "Mission Drop-in"
    sal = _get(client, f"{API}/service_at_locations?postcode=94110&proximity=3000")
    assert sal["total_items"] >= 1
    _valid("/service_at_locations", sal)
    for bad in (
        "proximity=100",
        "postcode=94110&proximity=far",
        "taxonomy_term_id=x",
        "modified_after=yesterday",
        "postcode=00000&proximity=10",
    ):
        _get(client, f"{API}/services?{bad}", 400)


def test_our_taxonomy_is_published(client, directory):
    taxonomies = _get(client, f"{API}/taxonomies")
    assert taxonomy.URI in {t.get("uri") for t in taxonomies["contents"]}
    terms = _get(client, f"{API}/taxonomy_terms?taxonomy_id={taxonomy.TAXONOMY_ID}&per_page=100")
    codes = {t["code"] for t in terms["contents"]}
    assert {taxonomy.EXPLOITED_YOUTH, taxonomy.CAPACITY, taxonomy.CONFIDENTIAL_LOCATION} <= codes
    top = _get(client, f"{API}/taxonomy_terms?taxonomy_id={taxonomy.TAXONOMY_ID}&top_only=true")
    assert all("parent_id" not in t for t in top["contents"])


def test_list_query_counts_do_not_grow_with_the_page(
    client, directory, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        client.get(f"{API}/services?per_page=50")
    with django_assert_max_num_queries(4):
        client.get(f"{API}/service_at_locations?per_page=50")
    with django_assert_max_num_queries(25):
        client.get(f"{API}/services?per_page=50&full=true")


def test_anyone_may_read_it_signed_in_or_not(directory, world):
    from safeharbor.core.tests.personas import verified_client

    client = verified_client(world.county_caseworker)
    assert client.get(f"{API}/services").status_code == 200
    assert Client().post(f"{API}/services").status_code == 405  # read-only
