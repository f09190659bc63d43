"""List pages and endpoints run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from safeharbor.core.tests.personas import verified_client
from safeharbor.youth import services


def add_youth(world, count: int) -> None:
    for index in range(count):
        services.youth_create(
            actor=world.county_caseworker,
            owning_agency=world.county,
            given_name=f"Youth{index}",
            family_name="Fernwick",
            date_of_birth=datetime.date(2010, 1, 1) + datetime.timedelta(days=index),
            county="Harbor",
        )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_caseload_page_queries_do_not_grow_with_rows(world):
    client = verified_client(world.county_caseworker)
    url = reverse("youth:caseload")
    add_youth(world, 2)
    few = count_queries(client, url)
    add_youth(world, 20)
    assert count_queries(client, url) == few


def test_api_list_queries_do_not_grow_with_rows(world):
    token = Token.objects.create(user=world.county_caseworker)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    add_youth(world, 2)
    few = count_queries(client, "/api/v1/youth/")
    add_youth(world, 20)
    assert count_queries(client, "/api/v1/youth/") == few
