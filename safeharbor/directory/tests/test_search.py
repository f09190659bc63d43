"""Search: text with typos, every filter, distance, facets (on both databases' engines)."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest

from safeharbor.directory import search, taxonomy
from safeharbor.directory.models import Service
from safeharbor.directory.search import Criteria, search_services

from .factories import load, service_object

pytestmark = pytest.mark.django_db
MISSION = (37.7599, -122.4148)  # San Francisco, Mission
OAKLAND = (37.8044, -122.2712)
FRESNO = (36.7378, -119.7871)


@pytest.fixture
def directory():
    load(
        service_object(
            name="Mission Youth Shelter",
            description="Emergency beds for teens.",
            lat=MISSION[0],
            lon=MISSION[1],
            codes=("need-shelter", taxonomy.EXPLOITED_YOUTH, f"{taxonomy.GENDER}-female"),
            ages=(12, 17),
            free=True,
            capacity=(2, 10),
            languages=("en", "es"),
            hours=("MO,TU,WE,TH,FR", "09:00:00", "17:00:00"),
        ),
        service_object(
            name="Oakland Counseling Collective",
            description="Trauma therapy and niños groups.",
            lat=OAKLAND[0],
            lon=OAKLAND[1],
            codes=("need-counseling", taxonomy.TRAUMA_INFORMED),
            ages=(5, 24),
            free=False,
            capacity=(0, 5),
            languages=("en",),
            hours=("SA,SU", "10:00:00", "14:00:00"),
        ),
        service_object(
            name="Fresno Crisis Line",
            description="Call any hour.",
            lat=FRESNO[0],
            lon=FRESNO[1],
            codes=("need-crisis", taxonomy.CRISIS_24_7),
            free=True,
        ),
        service_object(name="Closed Shelter", status="inactive", lat=MISSION[0], lon=MISSION[1]),
    )


def names(criteria: Criteria, **kwargs) -> list[str]:
    return [h.service.name for h in search_services(criteria, **kwargs).hits]


def test_text_matches_name_description_organisation_and_terms(directory):
    assert names(Criteria(text="shelter")) == ["Mission Youth Shelter"]
    assert names(Criteria(text="therapy")) == ["Oakland Counseling Collective"]
    assert names(Criteria(text="Mission Youth Shelter Society")) == ["Mission Youth Shelter"]
    assert names(Criteria(text="counseling")) == ["Oakland Counseling Collective"]  # a term name
    assert names(Criteria(text="ninos")) == ["Oakland Counseling Collective"]  # accents folded
    assert names(Criteria(text="NIÑOS")) == ["Oakland Counseling Collective"]
    assert names(Criteria(text="shel")) == ["Mission Youth Shelter"]  # prefixes
    assert names(Criteria(text="shelter for the youth")) == ["Mission Youth Shelter"]  # stopwords
    assert names(Criteria(text="shelter", active_only=False)) == [
        "Closed Shelter",
        "Mission Youth Shelter",
    ]


def test_typos_are_corrected(directory):
    results = search_services(Criteria(text="sheltr"))
    assert [h.service.name for h in results.hits] == ["Mission Youth Shelter"]
    assert results.corrected
    assert results.searched_words == ["shelter"]
    assert names(Criteria(text="conseling")) == ["Oakland Counseling Collective"]
    assert names(Criteria(text="xyzzyq")) == []


def test_the_search_text_never_holds_an_address(directory):
    assert all("market" not in s.search_text for s in Service.objects.all())
    assert names(Criteria(text="market street")) == []


def test_filters(directory):
    assert names(Criteria(age=20)) == ["Fresno Crisis Line", "Oakland Counseling Collective"]
    assert names(Criteria(age=14, gender="female")) == [
        "Fresno Crisis Line",
        "Mission Youth Shelter",
        "Oakland Counseling Collective",
    ]
    assert "Mission Youth Shelter" not in names(Criteria(gender="male"))
    assert names(Criteria(language="es")) == ["Mission Youth Shelter"]
    assert names(Criteria(free=True)) == ["Fresno Crisis Line", "Mission Youth Shelter"]
    assert names(Criteria(exploited_youth=True)) == ["Mission Youth Shelter"]
    assert names(Criteria(capacity=True)) == ["Mission Youth Shelter"]
    assert names(Criteria(need=taxonomy.term_id("need-crisis"))) == ["Fresno Crisis Line"]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # a Wednesday, 10:00 in Los Angeles: the weekday shelter and the 24/7 line
        ("2026-11-25T10:00:00-08:00", ["Fresno Crisis Line", "Mission Youth Shelter"]),
        # the same day at 20:00: only the 24/7 line
        ("2026-11-25T20:00:00-08:00", ["Fresno Crisis Line"]),
        # a Saturday at noon: the weekend counseling and the line
        ("2026-11-28T12:00:00-08:00", ["Fresno Crisis Line", "Oakland Counseling Collective"]),
    ],
)
def test_open_now(directory, moment, expected):
    with mock.patch(
        "safeharbor.core.clock.now", return_value=datetime.datetime.fromisoformat(moment)
    ):
        assert names(Criteria(open_now=True)) == expected


def test_distance_sorts_nearest_first_within_the_radius(directory):
    results = search_services(Criteria(near=MISSION, radius_miles=30))
    assert [h.service.name for h in results.hits] == [
        "Mission Youth Shelter",
        "Oakland Counseling Collective",
    ]
    assert results.hits[0].distance_miles < 1 < results.hits[1].distance_miles < 15
    assert names(Criteria(near=FRESNO, radius_miles=10)) == ["Fresno Crisis Line"]
    centroid = search.zip_centroid("94110")
    assert centroid is not None
    assert names(Criteria(near=centroid, radius_miles=2)) == ["Mission Youth Shelter"]
    assert search.zip_centroid("00000") is None
    assert search.zip_centroid("abc") is None


def test_text_three_filters_and_distance_together(directory):
    criteria = Criteria(
        text="shelter", free=True, age=15, exploited_youth=True, near=OAKLAND, radius_miles=25
    )
    assert names(criteria) == ["Mission Youth Shelter"]


def test_facets_and_paging(directory):
    results = search_services(Criteria(), with_facets=True, per_page=2, page=2)
    assert results.total == 3
    assert results.pages == 2
    assert len(results.hits) == 1
    needs = {f.key: f.count for f in results.facets["needs"]}
    assert needs[str(taxonomy.term_id("need-shelter"))] == 1
    other = {f.key: f.count for f in results.facets["other"]}
    assert other == {"free": 2, "capacity": 1}
    languages = {f.key: f.count for f in results.facets["languages"]}
    assert languages == {"en": 3, "es": 1} or languages == {"en": 2, "es": 1}


def test_haversine_and_box():
    assert search.haversine_miles(MISSION, MISSION) == 0
    assert 8 < search.haversine_miles(MISSION, OAKLAND) < 12
    south, north, west, east = search.bounding_box(MISSION, 10)
    assert south < MISSION[0] < north
    assert west < MISSION[1] < east


def test_query_count_of_a_full_search_is_fixed(directory, django_assert_max_num_queries):
    criteria = Criteria(text="shelter", free=True, age=15, exploited_youth=True, near=OAKLAND)
    with django_assert_max_num_queries(8):
        search_services(criteria)
