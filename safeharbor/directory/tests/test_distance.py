"""Distance search by SQL arithmetic (``search._ranked``) against the exhaustive ordering it
replaced: every match's points read and measured in Python, sorted by (distance, id). Same
totals, same pages in the same order, on random data with ties, services at several places,
confidential places and services exactly on the radius (on both databases' engines)."""

from __future__ import annotations

import copy
import math
import random
import uuid
from collections.abc import Iterator

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


def _random_criteria(rng: random.Random) -> Criteria:
    """A search near the crowded centre: some words, radius, cost, age and activity."""
    return Criteria(
        text=rng.choice(("", *WORDS)),
        near=(CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1)),
        radius_miles=rng.choice((2.0, 10.0, 25.0, 40.0)),
        free=rng.random() < 0.3,
        age=rng.choice((None, 15)),
        active_only=rng.random() < 0.8,
    )


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
        criteria = _random_criteria(rng)
        _check(criteria, per_page=rng.choice((1, 3, 7, 20)))
    assert read_again or slack == 16  # ties at a spot run past a slack of 0 or 1


def _radii_through_services(step: int) -> Iterator[Criteria]:
    """Searches around the centre whose radius is a service's distance (every ``step``-th
    service within 60 miles) or a hair shorter or longer; the exhaustive ordering takes the
    service in exactly when its distance is within the radius."""
    everything = _exhaustive(Criteria(near=CENTRE, radius_miles=60))
    for pk, distance in everything[::step]:
        for miles in (distance, distance - 1e-9, distance + 1e-9):
            criteria = Criteria(near=CENTRE, radius_miles=miles)
            assert (pk in dict(_exhaustive(criteria))) == (distance <= miles)
            yield criteria


def test_radius_through_a_service_and_ties_at_a_spot(crowded):
    """A radius equal to a service's distance takes it in (the margin is decided by the
    haversine); a radius a hair shorter leaves it out."""
    for criteria in _radii_through_services(step=9):
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


# --------------------------------------------------------------------------- the ring (capped)


def _check_capped(criteria: Criteria, per_page: int, cap: int) -> None:
    """Pages and the capped total of the ring equal the exhaustive ordering's."""
    expected = _exhaustive(criteria)
    pages = max(1, -(-len(expected) // per_page)) + 1
    for page in range(1, pages + 1):
        results = search_services(criteria, page=page, per_page=per_page, total_cap=cap)
        counted_to = max(cap, page * per_page)
        if len(expected) > counted_to:
            assert (results.total, results.total_is_lower_bound) == (counted_to, True)
            assert results.has_next
        else:
            assert (results.total, results.total_is_lower_bound) == (len(expected), False)
        window = expected[(page - 1) * per_page : page * per_page]
        assert [(h.service.pk, h.distance_miles) for h in results.hits] == window


@pytest.mark.parametrize(
    ("first", "max_cells", "fine_round"),
    [(1, 1024, 10_000), (1, 1024, 0), (9, 1024, 24), (2, 40, 3)],
)
def test_ring_pages_and_capped_totals_equal_the_exhaustive_ordering(
    crowded, monkeypatch, first, max_cells, fine_round
):
    """Ring by ring from the point (one cell first, several rounds; on in coarser cells after
    the first round; a coarser level when the fine one has too many cells), with caps below,
    at and above the number of matches: the same pages, the same distances, the exact total
    up to the cap and "more" beyond it."""
    monkeypatch.setattr(search, "RING_FIRST", first)
    monkeypatch.setattr(search, "RING_MAX_CELLS", max_cells)
    monkeypatch.setattr(search, "RING_FINE_ROUND", fine_round)
    rounds = []
    in_cells = search._in_cells
    monkeypatch.setattr(search, "_in_cells", lambda *a: rounds.append(a) or in_cells(*a))
    exhaustive = []
    ranked = search._ranked
    monkeypatch.setattr(search, "_ranked", lambda *a: exhaustive.append(a) or ranked(*a))
    rng = random.Random(first * 1000 + max_cells + fine_round)
    for _ in range(12):
        criteria = _random_criteria(rng)
        _check_capped(criteria, per_page=rng.choice((1, 3, 7, 20)), cap=rng.choice((1, 5, 30)))
    assert rounds
    assert not exhaustive  # every search went ring by ring
    levels = {token.split("_")[1] for _c, _p, tokens in rounds for token in tokens}
    if fine_round == 10_000:
        assert levels == {"c0625"}
    elif max_cells == 1024:
        assert levels == {"c0625", "c25"}  # the first round fine, later ones coarse
    else:
        assert {"c0625", "c25", "c1"} <= levels  # 40 miles: 0.25° first, then 1°


def test_ring_at_the_spots_and_radius_edges(crowded):
    """Ties at a shared spot (the page ends inside them) and radii through a service."""
    for criteria in _radii_through_services(step=11):
        _check_capped(criteria, per_page=4, cap=9)
    spot = ServiceSearch.objects.exclude(points="").values_list("points", flat=True)
    crowded_spot = max(set(spot), key=list(spot).count)  # the spot most services share
    point = search._points(crowded_spot)[0]
    _check_capped(Criteria(near=point, radius_miles=3), per_page=2, cap=3)


def test_ring_with_open_now_and_modified_after(crowded):
    """Criteria outside the full-text row (SQLite reads the search rows instead)."""
    for criteria in (
        Criteria(near=CENTRE, radius_miles=30, open_now=True),
        Criteria(near=CENTRE, radius_miles=30, modified_after=search.clock.now()),
        Criteria(near=CENTRE, radius_miles=30, text="food", active_only=False),
    ):
        _check_capped(criteria, per_page=6, cap=10)


def test_a_far_radius_or_a_pole_falls_back_to_measuring_every_match(crowded, monkeypatch):
    assert search.ring_cells((89.9, 0.0), 25) is None
    assert [len(level) > 0 for level in search.ring_cells(CENTRE, 500) or []] == [True, True]
    monkeypatch.setattr(search, "RING_MAX_CELLS", 4)
    assert search.ring_cells(CENTRE, 500) is None
    _check_capped(Criteria(near=CENTRE, radius_miles=40), per_page=7, cap=10)


def test_cell_floors_are_lower_bounds():
    """No point of a cell is nearer than the cell's floor, and the floor is reached (up to
    the margin) on the cell's edge."""
    rng = random.Random(7)
    size = 0.0625
    for _ in range(300):
        point = (rng.uniform(32, 42), rng.uniform(-124, -114))
        row = math.floor(point[0] / size) + rng.randint(-12, 12)
        column = math.floor(point[1] / size) + rng.randint(-12, 12)
        south, west = row * size, column * size
        floor = search._cell_floor(point, south, south + size, west, west + size)
        samples = [
            (south + size * i / 40, west + size * j / 40) for i in range(41) for j in range(41)
        ]
        nearest = min(search.haversine_miles(point, p) for p in samples)
        assert floor <= nearest
        assert nearest - floor < 0.08  # samples are 0.1 mile apart: 0.07 from any point


def test_capped_total_without_a_point(crowded):
    expected = search._rows(Criteria(text="food"))[0].count()
    assert expected > 3
    results = search_services(Criteria(text="food"), total_cap=3, per_page=2)
    assert (results.total, results.total_is_lower_bound, results.has_next) == (3, True, True)
    exact = search_services(Criteria(text="food"), total_cap=expected, per_page=2)
    assert (exact.total, exact.total_is_lower_bound) == (expected, False)
