"""Distance search by SQL arithmetic (``search._ranked``) against the exhaustive ordering it
replaced: every match's points read and measured in Python, sorted by (distance, id). Same
totals, same pages in the same order, on random data with ties, services at several places,
confidential places and services exactly on the radius (on both databases' engines)."""

from __future__ import annotations

import copy
import random
import uuid

import pytest

from safeharbor.directory import search, taxonomy
from safeharbor.directory.models import ServiceSearch
from safeharbor.directory.search import Criteria, search_services

from .factories import load, new_id, service_object

pytestmark = pytest.mark.django_db
CENTRE = (34.05, -118.25)
WORDS = ("shelter", "clinic", "legal", "food")


def _exhaustive(criteria: Criteria) -> list[tuple[uuid.UUID, float]]:
    """The ordering before: every matching row's points, measured in Python."""
    assert criteria.near is not None
    rows, _searched, _corrected = search._rows(criteria)
    miles = search._radius(criteria)
    found = []
    for pk, points in rows.order_by().values_list("pk", "points"):
        if not points:
            continue
        distance = min(search.haversine_miles(criteria.near, p) for p in search._points(points))
        if distance <= miles:
            found.append((pk, distance))
    return sorted(found, key=lambda item: (item[1], item[0]))


def _second_place(service: dict, lat: float, lon: float, confidential: bool = False) -> None:
    """Offer ``service`` at one more place."""
    location = copy.deepcopy(service["service_at_locations"][0]["location"])
    location.update(id=new_id(), latitude=lat, longitude=lon)
    location.pop("attributes", None)
    for address in location["addresses"]:
        address["id"] = new_id()
    if confidential:
        location["attributes"] = [
            {
                "id": new_id(),
                "link_id": location["id"],
                "link_entity": "location",
                "taxonomy_term_id": str(taxonomy.term_id(taxonomy.CONFIDENTIAL_LOCATION)),
                "value": "Call to arrange.",
            }
        ]
    service["service_at_locations"].append({"id": new_id(), "location": location})


@pytest.fixture
def crowded():
    """150 services around one point: a third at one of five shared spots (exact ties), some at
    two places, some confidential, some inactive, at 0-40 miles."""
    rng = random.Random(41)
    spots = [
        (CENTRE[0] + rng.uniform(-0.2, 0.2), CENTRE[1] + rng.uniform(-0.2, 0.2)) for _ in "12345"
    ]
    objects = []
    for i in range(150):
        if rng.random() < 0.35:
            lat, lon = rng.choice(spots)
        else:
            lat = CENTRE[0] + rng.uniform(-0.6, 0.6)
            lon = CENTRE[1] + rng.uniform(-0.7, 0.7)
        service = service_object(
            name=f"{rng.choice(WORDS).title()} {i}",
            description=" ".join(rng.sample(WORDS, 2)),
            lat=lat,
            lon=lon,
            free=rng.choice((True, False)),
            ages=(rng.choice((None, 12)), rng.choice((None, 18))),
            confidential=rng.random() < 0.1,
            status="active" if rng.random() < 0.9 else "inactive",
        )
        if rng.random() < 0.2:
            _second_place(
                service,
                CENTRE[0] + rng.uniform(-0.6, 0.6),
                CENTRE[1] + rng.uniform(-0.7, 0.7),
                confidential=rng.random() < 0.3,
            )
        objects.append(service)
    load(*objects)


def _check(criteria: Criteria, per_page: int) -> None:
    expected = _exhaustive(criteria)
    pages = max(1, -(-len(expected) // per_page)) + 1  # and one page past the end
    for page in range(1, pages + 1):
        results = search_services(criteria, page=page, per_page=per_page)
        assert results.total == len(expected)
        window = expected[(page - 1) * per_page : page * per_page]
        assert [(h.service.pk, h.distance_miles) for h in results.hits] == window


@pytest.mark.parametrize("slack", [0, 1, 16])
def test_pages_equal_the_exhaustive_ordering(crowded, monkeypatch, slack):
    """Slack 0 and 1 make the ties at the page's end run past what was sent (read again)."""
    monkeypatch.setattr(search, "PAGE_SLACK", slack)
    assert ServiceSearch.objects.filter(more_points=True).exists()
    read_again = []
    inside_down_to = search._inside_down_to
    monkeypatch.setattr(
        search, "_inside_down_to", lambda *a: read_again.append(a) or inside_down_to(*a)
    )
    rng = random.Random(slack)
    for _ in range(12):
        criteria = Criteria(
            text=rng.choice(("", *WORDS)),
            near=(CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1)),
            radius_miles=rng.choice((2.0, 10.0, 25.0, 40.0)),
            free=rng.random() < 0.3,
            age=rng.choice((None, 15)),
            active_only=rng.random() < 0.8,
        )
        _check(criteria, per_page=rng.choice((1, 3, 7, 20)))
    assert read_again or slack == 16  # ties at a spot run past a slack of 0 or 1


def test_radius_through_a_service_and_ties_at_a_spot(crowded):
    """A radius equal to a service's distance takes it in (the margin is decided by the
    haversine); a radius a hair shorter leaves it out."""
    everything = _exhaustive(Criteria(near=CENTRE, radius_miles=60))
    for pk, distance in everything[::9]:
        for miles in (distance, distance - 1e-9, distance + 1e-9):
            criteria = Criteria(near=CENTRE, radius_miles=miles)
            expected = _exhaustive(criteria)
            assert (pk in dict(expected)) == (distance <= miles)
            _check(criteria, per_page=5)


def test_facet_sample_is_the_nearest(crowded, monkeypatch):
    monkeypatch.setattr(search, "FACET_LIMIT", 7)
    criteria = Criteria(near=CENTRE, radius_miles=40)
    results = search_services(criteria, per_page=2, with_facets=True)
    nearest = [pk for pk, _d in _exhaustive(criteria)[:7]]
    free = ServiceSearch.objects.filter(pk__in=nearest, free=True).count()
    assert {f.key: f.count for f in results.facets["other"]}["free"] == free
    assert results.facets_sampled


def test_vectors_follow_the_first_public_place():
    service = service_object(name="Two Places", lat=34.0, lon=-118.0)
    _second_place(service, 35.0, -119.0)
    load(service, service_object(name="Hidden", confidential=True))
    two = ServiceSearch.objects.get(service__name="Two Places")
    assert two.more_points
    first, second = search._points(two.points)  # in the order of the service-at-locations
    assert {first, second} == {(34.0, -118.0), (35.0, -119.0)}
    assert (two.x, two.y, two.z) == search.index.unit_vector(*first)
    hidden = ServiceSearch.objects.get(service__name="Hidden")
    assert (hidden.x, hidden.y, hidden.z, hidden.more_points) == (None, None, None, False)
    near_second = search_services(Criteria(near=(35.0, -119.0), radius_miles=1))
    assert [h.service.name for h in near_second.hits] == ["Two Places"]
    assert near_second.hits[0].distance_miles == 0
