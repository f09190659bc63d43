"""Directory search: the one seam between the directory and the database's full-text engine.

Search reads the search rows (``ServiceSearch``, one per service, built by ``index.py``):

- **Text.** Each row's ``text`` is the service's name, alternate name, description, its
  organisation's name and the names of its taxonomy terms, folded (lower case, accents removed)
  into words. Never an address. Every query word must match the start of a word of the service.
- **Filters as tokens.** Need, gender, language, free, exploited youth, capacity, organisation
  and postcode are tokens of the row's ``document`` (``_t<term>``, ``_l<code>``...), so one
  full-text match answers the words and these filters together: PostgreSQL through a GIN index
  on ``array_to_tsvector(string_to_array(document, ' '))`` and a ``tsquery``; SQLite through the
  FTS5 table ``directory_servicesearch_fts``. Age, status, "modified after" are columns of the
  row; open now is a query on schedules, checked per candidate (or the 24/7 term).
- **Typos.** Every indexed word is also in ``SearchWord``. A query word that starts no indexed
  word is replaced by the closest one: by trigram similarity (``pg_trgm``, GIN index) on
  PostgreSQL, by edit distance among words of the same initial and near length on SQLite.
- **Distance.** Public locations are in grid cells of 1/16°, 0.25°, 1° and 4° (tokens). A
  search near a point takes the finest level whose cells covering the radius's bounding box
  are few (``MAX_CELLS``) and adds "one of these cells" to the match. The database then counts and
  sorts the matches by the dot product of unit vectors (``x``, ``y``, ``z``: the first public
  point), in one pass, sending back only the count, the page's rows (and ties) and the rows the
  arithmetic cannot settle (several points, or within ``DOT_MARGIN`` of the radius); those and
  the page are measured exactly (haversine) in Python and sorted by (distance, id), the same
  order and total as measuring every match (``_ranked``; tests/test_distance.py). On SQLite the
  matches are read from the full-text table alone when it holds every criterion. Confidential
  locations take no part: their coordinates would place them.
- **Capped totals and the ring.** The workers' page and the finder count the matches exactly
  up to ``TOTAL_CAP`` and then say "more than" (``total_cap``; docs/decisions/0013); the HSDS
  API counts them all. With a cap, a distance search reads the 1/16° cells around the point
  nearest first, a round of cells per query, and stops once the page and the count up to the
  cap are settled (``_ring_ranked``): the same page, distances and total up to the cap as
  measuring every match, at a cost that follows the cap and the page, not the matches.
- **Words' starts** that start few indexed words are spelled out as those words (``spell_out``):
  exact look-ups instead of a prefix scan, the same matches.
- **Facets** count at most ``FACET_LIMIT`` matching services (the first by distance, else by id),
  from the same rows; ``Results.facets_sampled`` says when they are a sample.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.utils import timezone

from safeharbor.core import clock

from . import index, taxonomy
from .index import document, normalise, words
from .models import (
    Attribute,
    Schedule,
    SearchWord,
    Service,
    ServiceSearch,
    TaxonomyTerm,
)

__all__ = ["document", "normalise", "words"]  # the text folding lives in index.py

MAX_QUERY_WORDS = 8
EARTH_RADIUS_MILES = 3958.8
DEFAULT_RADIUS_MILES = 25.0
MAX_RADIUS_MILES = 500.0
# A distance search uses the finest grid level whose cells over the box are at most this many;
# when even the coarsest needs more (up to MAX_COARSE_CELLS) it uses the coarsest anyway.
MAX_CELLS = 24
MAX_COARSE_CELLS = 256
# Facets count the first matches (nearest first with a point): as many as the workers' page
# counts exactly (TOTAL_CAP), so that a distance search reads no further for them.
FACET_LIMIT = 1000
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Words too common to narrow a search (English and Spanish).
STOPWORDS = frozenset(
    "a an and or the of for to in on at by with from is are be my me i we you "
    "y o el la los las un una unos unas de del para por con en al mi".split()
)


# --------------------------------------------------------------------------- text


def _vendor() -> str:
    return connection.vendor


def reindex(service_ids: Any) -> None:
    """Recompute the search rows of these services from the database (``index.rebuild``)."""
    index.rebuild(service_ids)


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it is past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def correct(word: str) -> str:
    """The word itself if it starts an indexed word, else the closest indexed word (or itself)."""
    if len(word) < 4 or SearchWord.objects.filter(word__startswith=word).exists():
        return word
    if _vendor() == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM directory_searchword WHERE word %% %s "
                "ORDER BY similarity(word, %s) DESC, word LIMIT 1",
                [word, word],
            )
            row = cursor.fetchone()
        return row[0] if row else word
    limit = 1 if len(word) <= 5 else 2
    candidates = (
        SearchWord.objects.filter(word__startswith=word[0])
        .annotate(n=Length("word"))
        .filter(n__gte=len(word) - limit, n__lte=len(word) + limit)
        .values_list("word", flat=True)
    )
    best, best_distance = word, limit + 1
    for candidate in candidates:
        distance = _distance(word, candidate, limit)
        if distance < best_distance or (distance == best_distance and candidate < best):
            best, best_distance = candidate, distance
    return best


def query_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS][:MAX_QUERY_WORDS]


@dataclass
class Match:
    """What the full-text engine must find: every word (as a word's start), every token, and
    one token of each group."""

    words: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)
    # A word's start spelled out as the indexed words it starts (``spell_out``): exact look-ups,
    # which both engines answer faster than a prefix (PostgreSQL: no partial-match bitmap).
    spelled: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.words or self.tokens or self.groups)

    def tsquery(self) -> str:
        """PostgreSQL ``tsquery`` text (cast, not parsed: lexemes as they are)."""
        parts = [
            "(" + " | ".join(f"'{x}'" for x in self.spelled[w]) + ")"
            if w in self.spelled
            else f"'{w}':*"
            for w in self.words
        ]
        parts += [f"'{t}'" for t in self.tokens]
        parts += ["(" + " | ".join(f"'{t}'" for t in group) + ")" for group in self.groups]
        return " & ".join(parts)

    def fts5(self) -> str:
        """SQLite FTS5 query text."""
        parts = [
            "(" + " OR ".join(f'"{x}"' for x in self.spelled[w]) + ")"
            if w in self.spelled
            else f'"{w}"*'
            for w in self.words
        ]
        parts += [f'"{t}"' for t in self.tokens]
        parts += ["(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in self.groups]
        return " AND ".join(parts)


# A word's start is spelled out when it starts at most this many indexed words.
MAX_SPELLED = 8


def spell_out(word: str) -> list[str] | None:
    """The indexed words that start with ``word`` (every indexed word of two letters or more is
    a ``SearchWord``), or None to keep it a prefix: too short, or starting too many."""
    if len(word) < 2:
        return None
    found = list(
        SearchWord.objects.filter(word__startswith=word)
        .order_by("word")
        .values_list("word", flat=True)[: MAX_SPELLED + 1]
    )
    return found if 0 < len(found) <= MAX_SPELLED else None


class _TsMatch(Func):
    """``array_to_tsvector(string_to_array(document, ' ')) @@ CAST(%s AS tsquery)``: the
    expression of the GIN index (migration 0003), with the column as Django aliases it."""

    template = "array_to_tsvector(string_to_array(%(expressions)s AS tsquery)"
    arg_joiner = ", ' ')) @@ CAST("
    output_field = BooleanField()


def _match_filter(rows: QuerySet[ServiceSearch], match: Match) -> QuerySet[ServiceSearch]:
    if _vendor() == "postgresql":
        return rows.filter(_TsMatch(F("document"), Value(match.tsquery())))
    return rows.filter(
        pk__in=RawSQL(
            "SELECT service_id FROM directory_servicesearch_fts "
            "WHERE directory_servicesearch_fts MATCH %s",
            [match.fts5()],
        )
    )


# --------------------------------------------------------------------------- places


@functools.cache
def zip_centroid(code: str) -> tuple[float, float] | None:
    """The centroid of a US ZIP code (the ``zipcodes`` package, offline), or None."""
    import zipcodes

    code = code.strip()[:5]
    if not re.fullmatch(r"\d{5}", code):
        return None
    try:
        found = zipcodes.matching(code)
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    return float(found[0]["lat"]), float(found[0]["long"])


def haversine_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(point: tuple[float, float], miles: float) -> tuple[float, float, float, float]:
    lat, lon = point
    dlat = math.degrees(miles / EARTH_RADIUS_MILES)
    cos_lat = max(math.cos(math.radians(lat)), 0.01)
    dlon = math.degrees(miles / (EARTH_RADIUS_MILES * cos_lat))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# --------------------------------------------------------------------------- searching


@dataclass(frozen=True)
class Criteria:
    """What to look for. Every field is optional; empty means "any"."""

    text: str = ""
    need: uuid.UUID | None = None
    age: int | None = None
    gender: str = ""
    language: str = ""
    near: tuple[float, float] | None = None
    radius_miles: float = DEFAULT_RADIUS_MILES
    open_now: bool = False
    free: bool = False
    exploited_youth: bool = False
    capacity: bool = False
    organization_id: uuid.UUID | None = None
    modified_after: datetime.datetime | None = None
    postcode: str = ""
    active_only: bool = True


@dataclass
class Hit:
    service: Service
    distance_miles: float | None


@dataclass
class Facet:
    key: str
    label: Any
    count: int


@dataclass
class Results:
    total: int
    hits: list[Hit]
    page: int
    per_page: int
    searched_words: list[str] = field(default_factory=list)
    corrected: bool = False
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    # True when the facets count only the first FACET_LIMIT matches.
    facets_sampled: bool = False
    # True when the count stopped at a cap (``total_cap``): there are more than ``total``
    # matches ("more than 1,000 services"), and at least one page after this one.
    total_is_lower_bound: bool = False

    @property
    def pages(self) -> int:
        """How many pages; with a capped total, those up to the cap (there are more)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.total_is_lower_bound or self.page < self.pages


def open_now_q(moment: datetime.datetime | None = None) -> Q:
    """Search rows of services open at ``moment`` (now): a schedule of the service or of one of
    its service-at-locations, checked per row through the schedule's service index, or 24/7."""
    local = timezone.localtime(moment or clock.now())
    day, now, today = DAYS[local.weekday()], local.time().replace(microsecond=0), local.date()
    hours = Q(opens_at__lte=now, closes_at__gt=now) | (
        Q(closes_at__lt=F("opens_at")) & (Q(opens_at__lte=now) | Q(closes_at__gt=now))
    )
    valid = (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )
    today_q = Q(byday__contains=day) | Q(byday="", freq="WEEKLY")
    schedules = Schedule.objects.filter(hours, valid, today_q)
    return (
        Q(open_24_7=True)
        | Q(Exists(schedules.filter(service_id=OuterRef("pk"))))
        | Q(Exists(schedules.filter(service_at_location__service_id=OuterRef("pk"))))
    )


def _match(criteria: Criteria, searched: Sequence[str]) -> Match:
    match = Match(words=list(searched))
    for word in dict.fromkeys(searched):
        spelled = spell_out(word)
        if spelled is not None:
            match.spelled[word] = spelled
    if criteria.need is not None:
        match.tokens.append(index.term_token(criteria.need))
    if criteria.gender:
        wanted = taxonomy.term_id(f"{taxonomy.GENDER}-{criteria.gender}")
        match.groups.append([index.GENDER_ANY, index.term_token(wanted)])
    if criteria.language:
        match.tokens.append(index.language_token(criteria.language))
    if criteria.free:
        match.tokens.append(index.FREE)
    if criteria.exploited_youth:
        match.tokens.append(index.term_token(taxonomy.term_id(taxonomy.EXPLOITED_YOUTH)))
    if criteria.capacity:
        match.tokens.append(index.CAPACITY)
    if criteria.organization_id is not None:
        match.tokens.append(index.organization_token(criteria.organization_id))
    if criteria.postcode:
        match.tokens.append(index.postcode_token(criteria.postcode))
    return match


def covering_cells(point: tuple[float, float], miles: float) -> list[str] | None:
    """The grid cells (tokens) that hold every point within ``miles`` of ``point``, at the
    finest level where they are few; None when no level has few enough (search everywhere).
    The longitude span is the exact one of the circle (wider than at its centre's latitude);
    over a pole, or all the way round, every column is taken."""
    lat, lon = point
    radius = miles / EARTH_RADIUS_MILES  # radians
    margin = 1e-9  # degrees, against rounding at a cell border
    south = lat - math.degrees(radius) - margin
    north = lat + math.degrees(radius) + margin
    span = math.sin(radius) / max(math.cos(math.radians(lat)), 1e-12)
    wraps = south <= -90 or north >= 90 or span >= 1 or radius >= math.pi / 2
    dlon = 180.0 if wraps else math.degrees(math.asin(span)) + margin
    south, north = max(south, -90.0), min(north, 90.0)
    coarsest = index.GRID_LEVELS[-1][0]
    for level, size in index.GRID_LEVELS:
        around = round(360 / size)
        rows = range(math.floor(south / size), math.floor(north / size) + 1)
        first, last = math.floor((lon - dlon) / size), math.floor((lon + dlon) / size)
        columns = range(around) if wraps or last - first + 1 >= around else range(first, last + 1)
        limit = MAX_COARSE_CELLS if level == coarsest else MAX_CELLS
        if len(rows) * len(columns) <= limit:
            return sorted({index.cell(level, size, r, c) for r in rows for c in columns})
    return None


@dataclass
class _Plan:
    match: Match
    searched: list[str]
    corrected: bool


def _plan(criteria: Criteria, *, covering: bool = True) -> _Plan:
    """What the full-text engine must match (a point adds its grid cells, unless not
    ``covering``: the ring adds its own); the words searched; whether corrected."""
    searched: list[str] = []
    corrected = False
    typed = query_words(criteria.text)
    if typed:
        searched = [correct(w) for w in typed]
        corrected = searched != typed
    match = _match(criteria, searched)
    if criteria.near is not None and covering:
        cells = covering_cells(criteria.near, _radius(criteria))
        if cells is not None:
            match.groups.append(cells)
    return _Plan(match, searched, corrected)


def _planned_rows(criteria: Criteria, plan: _Plan) -> QuerySet[ServiceSearch]:
    rows = ServiceSearch.objects.all()
    if criteria.active_only:
        rows = rows.filter(active=True)
    if plan.match:
        rows = _match_filter(rows, plan.match)
    if criteria.age is not None:
        rows = rows.filter(
            Q(minimum_age__isnull=True) | Q(minimum_age__lte=criteria.age),
            Q(maximum_age__isnull=True) | Q(maximum_age__gte=criteria.age),
        )
    if criteria.modified_after is not None:
        rows = rows.filter(last_modified__gte=criteria.modified_after)
    if criteria.open_now:
        rows = rows.filter(open_now_q())
    return rows


def _rows(criteria: Criteria) -> tuple[QuerySet[ServiceSearch], list[str], bool]:
    """Search rows matching everything but the exact distance (a point adds its grid cells);
    the words searched; whether corrected."""
    plan = _plan(criteria)
    return _planned_rows(criteria, plan), plan.searched, plan.corrected


def _near_matches(criteria: Criteria, plan: _Plan) -> tuple[str, Sequence[Any]]:
    """SQL for the matches of a distance search, columns (pk, points, more_points, x, y, z).
    On SQLite, when every criterion is in the full-text table (not "open now" nor "modified
    after"), straight from it: one row read per match."""
    if (
        _vendor() == "sqlite"
        and plan.match
        and not criteria.open_now
        and criteria.modified_after is None
    ):
        sql = (
            "SELECT service_id AS pk, points, more_points, x, y, z "
            "FROM directory_servicesearch_fts WHERE directory_servicesearch_fts MATCH %s"
        )
        params: list[Any] = [plan.match.fts5()]
        if criteria.active_only:
            sql += " AND active"
        if criteria.age is not None:
            sql += (
                " AND (minimum_age IS NULL OR minimum_age <= %s)"
                " AND (maximum_age IS NULL OR maximum_age >= %s)"
            )
            params += [criteria.age, criteria.age]
        return sql, params
    rows = _planned_rows(criteria, plan).order_by()
    return rows.values_list("pk", "points", "more_points", "x", "y", "z").query.sql_with_params()


def filtered(criteria: Criteria) -> tuple[QuerySet[Service], list[str], bool]:
    """Services matching everything but the exact distance (with a point: those with a public
    location in the grid cells around it); the words searched; whether corrected."""
    rows, searched, corrected = _rows(criteria)
    return Service.objects.filter(pk__in=rows.values("pk")), searched, corrected


def _radius(criteria: Criteria) -> float:
    return min(max(criteria.radius_miles, 0.1), MAX_RADIUS_MILES)


def _points(text: str) -> list[tuple[float, float]]:
    result = []
    for pair in text.split():
        lat, _comma, lon = pair.partition(",")
        result.append((float(lat), float(lon)))
    return result


# Margin on the dot product around the radius and the page's last distance, far above the
# rounding of the vectors and the dot product (about 1e-15), so that what the arithmetic
# decides is what the haversine would; what falls inside a margin is decided by the haversine.
DOT_MARGIN = 1e-12
# How many rows past the page the database sends, for ties within the margin.
PAGE_SLACK = 16


@dataclass
class Ranked:
    """A distance search's matches: how many lie within the radius, and the first ``wanted``
    of them nearest first (distance, then id)."""

    total: int
    nearest: list[tuple[uuid.UUID, float]]


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _exact(point: tuple[float, float], points: str) -> float | None:
    return min((haversine_miles(point, p) for p in _points(points)), default=None)


def _ranked(
    matches: tuple[str, Sequence[Any]], point: tuple[float, float], miles: float, wanted: int
) -> Ranked:
    """Count the matches within ``miles`` of ``point`` and rank the first ``wanted``, reading
    from the database only a count, the rows near the page's end and the rows whose distance
    the arithmetic cannot settle (several points, or within ``DOT_MARGIN`` of the radius).

    The rows' first points are unit vectors (``index.unit_vector``): the dot product with the
    point's vector falls as the distance rises, so the database counts the single-point rows
    clearly inside (dot above cos(radius) + margin) and sorts them by it, in one pass over the
    matches (a materialised CTE, read three times). The order of the page is then decided
    exactly as before: by the haversine distance in Python, then the id."""
    qx, qy, qz = index.unit_vector(*point)
    inside = math.cos(miles / EARTH_RADIUS_MILES)
    sql_matches, params = matches
    sql = (
        # The matches' SQL is the ORM's or ours; every value is a parameter.
        "WITH m AS MATERIALIZED (SELECT t.pk AS pk, t.points AS points, "  # noqa: S608
        f"t.more_points AS more, t.x * %s + t.y * %s + t.z * %s AS dot FROM ({sql_matches}) t) "
        "SELECT 0, NULL, NULL, COUNT(*) FROM m WHERE NOT more AND dot >= %s "
        "UNION ALL SELECT 1, pk, points, dot FROM m WHERE more OR (dot >= %s AND dot < %s) "
        "UNION ALL SELECT * FROM (SELECT 2, pk, points, dot FROM m "
        "WHERE NOT more AND dot >= %s ORDER BY dot DESC LIMIT %s) sure"
    )
    high, low = inside + DOT_MARGIN, inside - DOT_MARGIN
    limit = wanted + PAGE_SLACK
    with connection.cursor() as cursor:
        cursor.execute(sql, [qx, qy, qz, *params, high, low, high, high, limit])
        fetched = cursor.fetchall()
    total = 0
    found: dict[uuid.UUID, float] = {}
    nearest: list[tuple[float, Any, str]] = []  # the clearly inside: (dot, id, points)
    for part, pk, points, value in fetched:
        if part == 0:
            total = int(value)
        elif part == 1:
            distance = _exact(point, points)
            if distance is not None and distance <= miles:
                found[_as_uuid(pk)] = distance
        else:
            nearest.append((value, pk, points))
    total += len(found)
    if len(nearest) == limit and nearest[wanted - 1][0] - DOT_MARGIN <= nearest[-1][0]:
        # Ties within the margin run past what was sent: read every row down to the margin.
        floor = max(nearest[wanted - 1][0] - DOT_MARGIN, high)
        nearest = _inside_down_to(matches, (qx, qy, qz), floor)
    for _dot, pk, points in nearest:
        distance = _exact(point, points)
        if distance is not None:
            found[_as_uuid(pk)] = distance
    ranked = sorted(found.items(), key=lambda item: (item[1], item[0]))
    return Ranked(total, ranked[:wanted])


def _inside_down_to(
    matches: tuple[str, Sequence[Any]], vector: tuple[float, float, float], floor: float
) -> list[tuple[float, Any, str]]:
    """The single-point matches whose dot product is at least ``floor``: (dot, id, points)."""
    sql_matches, params = matches
    qx, qy, qz = vector
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.pk, t.points, "  # noqa: S608 (as in _ranked)
            f"t.x * %s + t.y * %s + t.z * %s FROM ({sql_matches}) t "
            "WHERE NOT t.more_points AND t.x * %s + t.y * %s + t.z * %s >= %s",
            [qx, qy, qz, *params, qx, qy, qz, floor],
        )
        return [(value, pk, points) for pk, points, value in cursor.fetchall()]


# --------------------------------------------------------------------------- the ring

# The workers' page and the finder count the matches exactly up to this many, then say "more
# than 1,000 services" (docs/decisions/0013); the HSDS API counts them all.
TOTAL_CAP = 1000
# The ring uses the finest grid level whose cells over the circle are at most this many.
RING_MAX_CELLS = 1024
# The first round reads the matches in this many cells nearest the point.
RING_FIRST = 9
# A round that would need more fine cells than this reads coarser cells instead (64 measured
# best at 1,000,000 services with the rows in place order, on both databases; docs/performance.md).
RING_FINE_ROUND = 64
# A cell's lower bound on the distance of its points is lowered by this much (miles), far
# above the rounding of the haversine, so that it is never above a point's computed distance.
RING_MARGIN_MILES = 1e-6


def _cell_floor(
    point: tuple[float, float], south: float, north: float, west: float, east: float
) -> float:
    """The distance (miles) from ``point`` to the nearest point of a cell (a latitude-longitude
    rectangle in the same turn of longitude as the point), less ``RING_MARGIN_MILES``. Inside
    the cell's columns the nearest point is on the point's meridian; outside, on the nearer
    edge meridian (the distance grows with the longitude difference at every latitude), at the
    foot of the point on that meridian, clamped to the cell (along a meridian the distance
    grows away from the foot)."""
    lat, lon = point
    if west <= lon <= east:
        nearest = (min(max(lat, south), north), lon)
    else:
        edge = west if abs(lon - west) < abs(lon - east) else east
        phi, dlam = math.radians(lat), math.radians(edge - lon)
        foot = math.degrees(math.atan2(math.sin(phi), math.cos(phi) * math.cos(dlam)))
        nearest = (min(max(foot, south), north), edge)
    return max(0.0, haversine_miles(point, nearest) - RING_MARGIN_MILES)


def ring_cells(point: tuple[float, float], miles: float) -> list[list[tuple[float, str]]] | None:
    """The grid cells that can hold a point within ``miles`` of ``point``, as (lower bound on
    their points' distance, token), nearest first: at the finest level where they are at most
    ``RING_MAX_CELLS``, then at the next coarser level (if any: rounds past the first read
    those, see ``_ring_ranked``). None when the circle reaches a pole or goes all the way
    round, or no level has few enough (the search then measures every match)."""
    lat, lon = point
    radius = miles / EARTH_RADIUS_MILES  # radians
    margin = 1e-9  # degrees, against rounding at a cell border (as in covering_cells)
    south = lat - math.degrees(radius) - margin
    north = lat + math.degrees(radius) + margin
    span = math.sin(radius) / max(math.cos(math.radians(lat)), 1e-12)
    if south <= -90 or north >= 90 or span >= 1 or radius >= math.pi / 2:
        return None
    dlon = math.degrees(math.asin(span)) + margin
    levels: list[list[tuple[float, str]]] = []
    for level, size in index.GRID_LEVELS:
        rows = range(math.floor(south / size), math.floor(north / size) + 1)
        columns = range(math.floor((lon - dlon) / size), math.floor((lon + dlon) / size) + 1)
        if len(columns) >= round(360 / size):
            break
        if not levels and len(rows) * len(columns) > RING_MAX_CELLS:
            continue
        cells = []
        for r in rows:
            for c in columns:
                floor = _cell_floor(point, r * size, (r + 1) * size, c * size, (c + 1) * size)
                if floor <= miles:  # a cell wholly beyond the radius holds no match
                    cells.append((floor, index.cell(level, size, r, c)))
        levels.append(sorted(cells))
        if len(levels) == 2:
            break
    return levels or None


def _in_cells(criteria: Criteria, plan: _Plan, cells: list[str]) -> list[tuple[Any, ...]]:
    """The matches with a public point in one of these cells: (pk, points, more, x, y, z)."""
    within = _Plan(
        dataclasses.replace(plan.match, groups=[*plan.match.groups, cells]),
        plan.searched,
        plan.corrected,
    )
    sql, params = _near_matches(criteria, within)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Ringed:
    """A distance search read ring by ring: the first ``wanted`` matches nearest first, and
    how many matches lie within the radius: exact when ``counted_all``, else more than the cap
    (at least ``cap + 1`` were found)."""

    total: int
    counted_all: bool
    nearest: list[tuple[uuid.UUID, float]]


def _ring_ranked(
    criteria: Criteria,
    plan: _Plan,
    point: tuple[float, float],
    levels: list[list[tuple[float, str]]],
    wanted: int,
    cap: int,
) -> Ringed:
    """Rank the first ``wanted`` matches and count them up to ``cap`` by reading the cells of
    ``ring_cells`` nearest first, a round of cells at a time, until both are settled:

    - the page: the ``wanted``-th nearest found so far is nearer than the lower bound of every
      cell not read (every match not read has all its points in such cells, or beyond the
      radius), strictly, so that no unread match can tie with it and come first by id;
    - the count: more than ``cap`` matches found within the radius, or every cell read.

    A match found in one cell is measured at all its points (``points``), as before. Which
    matches lie within the radius, and their order, are decided as in ``_ranked``: by the dot
    product of unit vectors where it is clear by ``DOT_MARGIN``, by the haversine otherwise,
    then by (distance, id). The next round takes enough cells for the count at the density
    found so far (times 2; all the rest when that is half of them or more, or when nothing was
    found yet), or, once the count is settled, every cell that could hold a match nearer than
    the page's last. A full-text match costs more the more cell tokens it has (PostgreSQL
    checks every token of the query for each candidate), so when the count needs more than
    ``RING_FINE_ROUND`` further fine cells, the rounds go on in the coarser level's cells
    (those holding the fine cells the count needs first): a match found again is skipped, and
    the lower bound of what is unread is then that of the coarse cells not read, whose union
    holds every point outside the cells read."""
    miles = _radius(criteria)
    qx, qy, qz = index.unit_vector(*point)
    inside_dot = math.cos(miles / EARTH_RADIUS_MILES)
    high, low = inside_dot + DOT_MARGIN, inside_dot - DOT_MARGIN
    seen: set[Any] = set()
    inside: list[tuple[float, Any, str]] = []  # (dot or its equivalent, pk, points)
    measured: dict[Any, float] = {}
    cells, coarser = levels[0], levels[1:]
    read = 0
    batch = RING_FIRST
    need = max(cap + 1, wanted)
    while True:
        tokens = [token for _floor, token in cells[read : read + batch]]
        read += len(tokens)
        for pk, points, more, x, y, z in _in_cells(criteria, plan, tokens):
            if pk in seen:
                continue
            seen.add(pk)
            if more:
                distance = _exact(point, points)
                if distance is not None and distance <= miles:
                    measured[pk] = distance
                    inside.append((math.cos(distance / EARTH_RADIUS_MILES), pk, points))
                continue
            dot = x * qx + y * qy + z * qz
            if dot >= high:
                inside.append((dot, pk, points))
            elif dot >= low:
                distance = _exact(point, points)
                if distance is not None and distance <= miles:
                    measured[pk] = distance
                    inside.append((dot, pk, points))
        unread = cells[read][0] if read < len(cells) else math.inf
        nearest = _nearest_of(point, inside, measured, wanted)
        page_settled = unread == math.inf or (len(nearest) == wanted and nearest[-1][1] < unread)
        count_settled = unread == math.inf or len(inside) > cap
        if page_settled and count_settled:
            break
        if count_settled and len(nearest) == wanted:
            last = nearest[-1][1]  # only the page is left: the cells that can come before it
            batch = max(1, sum(1 for floor, _t in cells[read:] if floor <= last))
        else:
            # Each round costs the full-text engine's intersection again: rather too many cells
            # than another round. None found yet, or most of the rest needed: all of the rest.
            left = len(cells) - read
            wanted_cells = math.ceil(read * need / len(inside) * 2) - read if inside else left
            if coarser and wanted_cells > RING_FINE_ROUND:
                reach = cells[min(read + wanted_cells, len(cells)) - 1][0]
                cells, coarser, read = coarser[0], coarser[1:], 0
                batch = max(1, sum(1 for floor, _t in cells if floor <= reach))
                continue
            batch = left if wanted_cells * 2 >= left else max(RING_FIRST, wanted_cells)
    total = len(inside)
    return Ringed(min(total, cap), total <= cap, nearest)


def _nearest_of(
    point: tuple[float, float],
    inside: list[tuple[float, Any, str]],
    measured: dict[Any, float],
    wanted: int,
) -> list[tuple[uuid.UUID, float]]:
    """The first ``wanted`` of these matches by (distance, id): those whose dot product is
    within ``DOT_MARGIN`` of the ``wanted``-th largest are measured, the rest cannot come
    before them."""
    if not inside or wanted <= 0:
        return []
    inside.sort(key=lambda item: item[0], reverse=True)
    cut = inside[min(wanted, len(inside)) - 1][0] - DOT_MARGIN
    candidates = []
    for dot, pk, points in inside:
        if dot < cut:
            break
        distance = measured.get(pk)
        if distance is None:
            distance = _exact(point, points)
        if distance is not None:
            candidates.append((_as_uuid(pk), distance))
    candidates.sort(key=lambda item: (item[1], item[0]))
    return candidates[:wanted]


def search_services(
    criteria: Criteria,
    *,
    page: int = 1,
    per_page: int = 20,
    with_facets: bool = False,
    prepare: Callable[[QuerySet[Service]], QuerySet[Service]] | None = None,
    total_cap: int | None = None,
) -> Results:
    """One page of services matching ``criteria``: nearest first when a point is given, else
    by name. ``prepare`` adds select_related/prefetch_related to the page's query.

    ``total_cap`` (the workers' page and the finder: ``TOTAL_CAP``): count the matches exactly
    up to that many (or up to the end of this page, if further), and beyond it say only that
    there are more (``Results.total_is_lower_bound``); a distance search then reads the cells
    around the point nearest first and stops once the page and that count are settled
    (``_ring_ranked``), instead of reading every match. None (the HSDS API): the exact total."""
    page = max(1, page)
    offset = (page - 1) * per_page
    cap = None if total_cap is None else max(total_cap, offset + per_page)
    distances: dict[uuid.UUID, float] = {}
    sample: list[uuid.UUID] | None = None
    lower_bound = False
    ring = None
    if criteria.near is not None and cap is not None:
        ring = ring_cells(criteria.near, _radius(criteria))
    plan = _plan(criteria, covering=ring is None)
    searched, corrected = plan.searched, plan.corrected
    if criteria.near is not None:
        wanted = max(offset + per_page, FACET_LIMIT if with_facets else 0)
        if ring is not None and cap is not None:
            ringed = _ring_ranked(criteria, plan, criteria.near, ring, wanted, cap)
            total, lower_bound, nearest = ringed.total, not ringed.counted_all, ringed.nearest
        else:
            matches = _near_matches(criteria, plan)
            ranked = _ranked(matches, criteria.near, _radius(criteria), wanted)
            total, nearest = ranked.total, ranked.nearest
            if cap is not None and total > cap:
                total, lower_bound = cap, True
        window = nearest[offset : offset + per_page]
        distances = dict(window)
        page_query = Service.objects.filter(pk__in=[pk for pk, _ in window])
        if with_facets:
            sample = [pk for pk, _ in nearest[:FACET_LIMIT]]
    else:
        rows = _planned_rows(criteria, plan)
        if cap is None:
            total = rows.count()
        else:
            total = rows.order_by()[: cap + 1].count()
            if total > cap:
                total, lower_bound = cap, True
        page_query = Service.objects.filter(pk__in=rows.values("pk")).order_by("name", "pk")[
            offset : offset + per_page
        ]
        if with_facets and total:
            sample = list(rows.order_by("pk").values_list("pk", flat=True)[:FACET_LIMIT])
    page_query = page_query.select_related("organization", "program", "capacity")
    if prepare is not None:
        page_query = prepare(page_query)
    services = list(page_query)
    if distances:
        services.sort(key=lambda s: (distances[s.pk], s.pk))
    hits = [Hit(s, distances.get(s.pk)) for s in services]
    results = Results(total, hits, page, per_page, searched, corrected)
    results.total_is_lower_bound = lower_bound
    if sample:
        results.facets = facets(sample)
        results.facets_sampled = lower_bound or total > len(sample)
    return results


def facets(ids: list[uuid.UUID]) -> dict[str, list[Facet]]:
    """How many of these services (at most ``FACET_LIMIT`` of the matches) each further choice
    would leave (needs, features, languages, free, capacity), from their search rows."""
    terms: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    free = capacity = 0
    for start in range(0, len(ids), index.CHUNK):
        for term_hexes, codes, is_free, has_space in ServiceSearch.objects.filter(
            pk__in=ids[start : start + index.CHUNK]
        ).values_list("terms", "languages", "free", "capacity_available"):
            terms.update(term_hexes.split())
            languages.update(codes.split())
            free += is_free
            capacity += has_space
    needs = [
        Facet(str(t.id), t.label, terms[t.id.hex]) for t in taxonomy.NEED_TERMS if terms[t.id.hex]
    ]
    features = [
        Facet(t.code, t.label, terms[t.id.hex]) for t in taxonomy.FEATURES if terms[t.id.hex]
    ]
    top = sorted(languages.items(), key=lambda item: (-item[1], item[0]))[:12]
    return {
        "needs": needs,
        "features": features,
        "languages": [Facet(code, code, n) for code, n in top],
        "other": [Facet("free", "free", free), Facet("capacity", "capacity", capacity)],
    }


def need_terms() -> list[TaxonomyTerm]:
    """Every taxonomy term attached to a service, for the workers' need choice."""
    used = Attribute.objects.filter(link_entity="service").values("taxonomy_term_id")
    return list(TaxonomyTerm.objects.filter(pk__in=used).order_by("name"))
