"""The public finder: no login, no cookies, no tracking, quick exit, crisis lines, Spanish."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from safeharbor.directory import search, taxonomy, views
from safeharbor.directory.models import Service

from .factories import load, service_object

pytestmark = pytest.mark.django_db


@pytest.fixture
def services():
    load(
        service_object(
            name="Harbor Youth Shelter",
            codes=("need-shelter", taxonomy.EXPLOITED_YOUTH),
            capacity=(3, 10),
            ages=(12, 17),
        ),
        service_object(name="Closed Clinic", status="inactive"),
    )


URLS = ["/find/", "/find/?q=shelter", "/find/?q=shelter&zip=94103&open_now=on", "/find/?lang=es"]


@pytest.mark.parametrize("url", URLS)
def test_no_cookie_is_set_and_nothing_is_cached(services, url):
    client = Client()
    response = client.get(url)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert not client.cookies


def test_no_csrf_token_or_session_in_the_page(services):
    content = Client().get("/find/?q=shelter").content.decode()
    assert "csrfmiddlewaretoken" not in content
    assert 'method="post"' not in content


def test_crisis_lines_and_quick_exit_are_on_every_finder_page(services):
    service = Service.objects.get(name="Harbor Youth Shelter")
    for url in ("/find/", "/find/?q=nothing-matches-this", f"/find/services/{service.pk}/"):
        content = Client().get(url).content.decode()
        assert "1-888-373-7888" in content
        assert "233733" in content
        assert "988" in content
        assert 'id="quick-exit"' in content
        assert "https://www.weather.gov/" in content
        assert "location.replace" in content
        assert '"Escape"' in content


def test_the_script_carries_the_csp_nonce(services):
    response = Client().get("/find/")
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.content.decode()
    assert "unsafe-inline" not in policy


def test_results_and_detail(services):
    content = Client().get("/find/?q=shelter&age=14").content.decode()
    assert "Harbor Youth Shelter" in content
    assert "3 beds available" in content
    assert "Closed Clinic" not in Client().get("/find/?q=clinic").content.decode()
    closed = Service.objects.get(name="Closed Clinic")
    assert Client().get(f"/find/services/{closed.pk}/").status_code == 404
    shelter = Service.objects.get(name="Harbor Youth Shelter")
    detail = Client().get(f"/find/services/{shelter.pk}/").content.decode()
    assert "Updated" in detail
    assert "days ago" in detail


def test_spanish(services):
    content = Client().get("/find/?lang=es&q=shelter").content.decode()
    assert '<html lang="es">' in content
    assert "English" in content  # the link back


def test_a_bad_zip_code_says_what_to_do(services):
    content = Client().get("/find/?zip=123").content.decode()
    assert "5-digit US ZIP code" in content


def test_nothing_is_logged_about_a_search(services, caplog):
    with caplog.at_level(logging.DEBUG):
        Client().get("/find/?q=secret-search-words")
    assert "secret-search-words" not in caplog.text


@pytest.mark.parametrize("zip_code", ["", "94103"])
def test_beyond_the_cap_the_finder_says_more_than(monkeypatch, zip_code):
    """The finder counts exactly up to search.TOTAL_CAP (docs/decisions/0013), then says "more
    than" and pages on without a last page; the HSDS API still counts every match."""
    load(*(service_object(name=f"Shelter {i}") for i in range(5)))
    monkeypatch.setattr(search, "TOTAL_CAP", 3)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    url = f"/find/?q=shelter&zip={zip_code}"
    content = Client().get(url).content.decode()
    assert "More than 3 services found" in content
    assert "Page 1<" in content
    assert "page=2" in content
    last = Client().get(f"{url}&page=3").content.decode()
    assert "5 services found" in last  # counted up to the end of page 3: all of them
    assert "Page 3 of 3" in last
    assert "Next" not in last
    api = Client().get(f"/api/hsds/services?search=shelter&postcode={zip_code}").json()
    assert api["total_items"] == 5


def test_the_finder_counts_exactly_up_to_the_cap(monkeypatch):
    load(*(service_object(name=f"Shelter {i}") for i in range(3)))
    monkeypatch.setattr(search, "TOTAL_CAP", 3)
    content = Client().get("/find/?q=shelter&zip=94103").content.decode()
    assert "3 services found" in content
    assert "More than" not in content
