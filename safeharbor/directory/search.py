"""Directory search: the one seam between the directory and the database's full-text engine.

- **Text.** Each service has ``search_text``: its name, alternate name, description, its
  organisation's name and the names of its taxonomy terms, folded (lower case, accents removed)
  into words. Never an address. PostgreSQL indexes ``to_tsvector('simple', search_text)`` with
  GIN; SQLite keeps an FTS5 table ``directory_service_fts`` (``sync_index``). Every query word
  must match the start of a word of the service.
- **Typos.** Every indexed word is also in ``SearchWord``. A query word that starts no indexed
  word is replaced by the closest one: by trigram similarity (``pg_trgm``, GIN index) on
  PostgreSQL, by edit distance among words of the same initial and near length on SQLite.
- **Distance.** A bounding box on the indexed latitude and longitude of public locations, then
  the exact haversine distance in Python, sorted. Confidential locations take no part: their
  coordinates would place them.
- **Filters.** Need (a taxonomy term), age (within the service's minimum/maximum), gender
  (services for that gender or for everyone), language, open now (schedules of the service or
  its locations, in ``settings.TIME_ZONE``, or the 24/7 term), free (a cost option of 0 and none
  above), specialised in exploited youth (our term), capacity available; for the HSDS API also
  organisation, modified after and postcode.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.utils import timezone

from safeharbor.core import clock

from . import taxonomy
from .models import (
    Attribute,
    CostOption,
    Language,
    Schedule,
    SearchWord,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)

_WORD = re.compile(r"[^\W_]+")
MAX_WORD = 64
MAX_QUERY_WORDS = 8
EARTH_RADIUS_MILES = 3958.8
DEFAULT_RADIUS_MILES = 25.0
MAX_RADIUS_MILES = 500.0
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Words too common to narrow a search (English and Spanish).
STOPWORDS = frozenset(
    "a an and or the of for to in on at by with from is are be my me i we you "
    "y o el la los las un una unos unas de del para por con en al mi".split()
)


# --------------------------------------------------------------------------- text


def normalise(text: str) -> str:
    """Lower case, accents removed (niños -> ninos), as both engines will see it."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return [w[:MAX_WORD] for w in _WORD.findall(normalise(text))]


def document(parts: Iterable[str]) -> str:
    """The search text of a service from its parts."""
    return " ".join(words(" ".join(p for p in parts if p)))


def _vendor() -> str:
    return connection.vendor


def fts_rowid(pk: uuid.UUID) -> int:
    """The FTS5 row of a service: 63 bits of its UUID, so that a row is replaced by rowid (an
    index look-up) instead of a scan. Two of a million services share one with a chance of
    about 1 in 20 million; they would then share a row (and the later one's text)."""
    return pk.int >> 65


def sync_index(
    texts: dict[uuid.UUID, str], progress: Callable[[str, int, int], None] | None = None
) -> None:
    """Put services' search texts into the engine's index and their words into SearchWord.
    (On PostgreSQL the GIN expression index follows ``search_text`` by itself.)"""
    items = list(texts.items())
    batch = 5000
    new_words: set[str] = set()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        if _vendor() == "sqlite":
            with connection.cursor() as cursor:
                cursor.executemany(
                    "DELETE FROM directory_service_fts WHERE rowid = %s",
                    [(fts_rowid(pk),) for pk, _ in chunk],
                )
                cursor.executemany(
                    "INSERT INTO directory_service_fts (rowid, service_id, body) "
                    "VALUES (%s, %s, %s)",
                    [(fts_rowid(pk), pk.hex, text) for pk, text in chunk],
                )
        for _pk, text in chunk:
            new_words.update(text.split())
        if progress:
            progress("search index", start + len(chunk), len(items))
    word_list = sorted(w for w in new_words if len(w) >= 2)
    for start in range(0, len(word_list), batch):
        SearchWord.objects.bulk_create(
            [SearchWord(word=w) for w in word_list[start : start + batch]],
            ignore_conflicts=True,
        )


def reindex(service_ids: Iterable[uuid.UUID]) -> None:
    """Recompute the search text of these services from the database."""
    ids = list(service_ids)
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        terms: dict[uuid.UUID, list[str]] = {}
        for link_id, name in Attribute.objects.filter(
            link_entity="service", link_id__in=chunk
        ).values_list("link_id", "taxonomy_term__name"):
            terms.setdefault(link_id, []).append(name)
        services = list(
            Service.objects.filter(pk__in=chunk)
            .select_related("organization")
            .only("id", "name", "alternate_name", "description", "organization__name")
        )
        texts = {}
        for service in services:
            service.search_text = document(
                [
                    service.name,
                    service.alternate_name,
                    service.description,
                    service.organization.name,
                    *terms.get(service.pk, []),
                ]
            )
            texts[service.pk] = service.search_text
        Service.objects.bulk_update(services, ["search_text"])
        sync_index(texts)


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


class _TsMatch(Func):
    """``to_tsvector('simple', search_text) @@ to_tsquery('simple', %s)``: the expression of the
    GIN index (migration 0002), with the column as Django aliases it (also in subqueries)."""

    template = "to_tsvector('simple', %(expressions)s)"
    arg_joiner = ") @@ to_tsquery('simple', "
    output_field = BooleanField()


def _text_filter(queryset: QuerySet[Service], terms: Sequence[str]) -> QuerySet[Service]:
    if _vendor() == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in terms)
        return queryset.filter(_TsMatch(F("search_text"), Value(tsquery)))
    match = " AND ".join(f'"{w}"*' for w in terms)
    return queryset.filter(
        pk__in=RawSQL(
            "SELECT service_id FROM directory_service_fts WHERE directory_service_fts MATCH %s",
            [match],
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

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _with_term(code: str) -> Any:
    return Attribute.objects.filter(
        taxonomy_term_id=taxonomy.term_id(code), link_entity="service"
    ).values("link_id")


def _has_term(term: uuid.UUID) -> Exists:
    return Exists(
        Attribute.objects.filter(
            taxonomy_term_id=term, link_entity="service", link_id=OuterRef("pk")
        )
    )


def open_now_q(moment: datetime.datetime | None = None) -> Q:
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
        Q(pk__in=schedules.filter(service__isnull=False).values("service_id"))
        | Q(
            pk__in=schedules.filter(service_at_location__isnull=False).values(
                "service_at_location__service_id"
            )
        )
        | Q(pk__in=_with_term(taxonomy.CRISIS_24_7))
    )


def free_q() -> Q:
    # Correlated EXISTS: checked per candidate through the service_id index, never a scan of
    # every cost option (an IN list would be built from the whole table).
    return Q(Exists(CostOption.objects.filter(service_id=OuterRef("pk"), amount=0))) & ~Q(
        Exists(CostOption.objects.filter(service_id=OuterRef("pk"), amount__gt=0))
    )


def gender_q(gender: str) -> Q:
    codes = [t.code for t in taxonomy.GENDER_TERMS]
    restricted = Attribute.objects.filter(
        taxonomy_term_id__in=[taxonomy.term_id(c) for c in codes], link_entity="service"
    ).values("link_id")
    return ~Q(pk__in=restricted) | Q(pk__in=_with_term(f"{taxonomy.GENDER}-{gender}"))


def filtered(criteria: Criteria) -> tuple[QuerySet[Service], list[str], bool]:
    """Services matching everything but distance; the words searched; whether corrected."""
    queryset = Service.objects.all()
    if criteria.active_only:
        queryset = queryset.filter(status="active")
    searched: list[str] = []
    corrected = False
    typed = query_words(criteria.text)
    if typed:
        searched = [correct(w) for w in typed]
        corrected = searched != typed
        queryset = _text_filter(queryset, searched)
    if criteria.need is not None:
        queryset = queryset.filter(_has_term(criteria.need))
    if criteria.age is not None:
        queryset = queryset.filter(
            Q(minimum_age__isnull=True) | Q(minimum_age__lte=criteria.age),
            Q(maximum_age__isnull=True) | Q(maximum_age__gte=criteria.age),
        )
    if criteria.gender:
        queryset = queryset.filter(gender_q(criteria.gender))
    if criteria.language:
        queryset = queryset.filter(
            Exists(Language.objects.filter(service_id=OuterRef("pk"), code=criteria.language))
        )
    if criteria.open_now:
        queryset = queryset.filter(open_now_q())
    if criteria.free:
        queryset = queryset.filter(free_q())
    if criteria.exploited_youth:
        queryset = queryset.filter(_has_term(taxonomy.term_id(taxonomy.EXPLOITED_YOUTH)))
    if criteria.capacity:
        queryset = queryset.filter(capacity__available__gt=0)
    if criteria.organization_id is not None:
        queryset = queryset.filter(organization_id=criteria.organization_id)
    if criteria.modified_after is not None:
        queryset = queryset.filter(last_modified__gte=criteria.modified_after)
    if criteria.postcode:
        queryset = queryset.filter(
            pk__in=ServiceAtLocation.objects.filter(
                location__is_confidential=False,
                location__addresses__postal_code=criteria.postcode,
            ).values("service_id")
        )
    return queryset, searched, corrected


def _by_distance(
    queryset: QuerySet[Service], point: tuple[float, float], miles: float
) -> list[tuple[uuid.UUID, float]]:
    south, north, west, east = bounding_box(point, miles)
    rows = (
        queryset.order_by()
        .filter(
            service_at_locations__location__is_confidential=False,
            service_at_locations__location__latitude__range=(south, north),
            service_at_locations__location__longitude__range=(west, east),
        )
        .values_list(
            "pk",
            "service_at_locations__location__latitude",
            "service_at_locations__location__longitude",
        )
    )
    nearest: dict[uuid.UUID, float] = {}
    for pk, lat, lon in rows:
        if lat is None or lon is None:  # excluded by the box; says so to the type checker
            continue
        distance = haversine_miles(point, (lat, lon))
        if distance <= miles and distance < nearest.get(pk, math.inf):
            nearest[pk] = distance
    return sorted(nearest.items(), key=lambda item: (item[1], item[0]))


def search_services(
    criteria: Criteria,
    *,
    page: int = 1,
    per_page: int = 20,
    with_facets: bool = False,
    prepare: Callable[[QuerySet[Service]], QuerySet[Service]] | None = None,
) -> Results:
    """One page of services matching ``criteria``: nearest first when a point is given, else
    by name. ``prepare`` adds select_related/prefetch_related to the page's query."""
    queryset, searched, corrected = filtered(criteria)
    page = max(1, page)
    offset = (page - 1) * per_page
    distances: dict[uuid.UUID, float] = {}
    if criteria.near is not None:
        radius = min(max(criteria.radius_miles, 0.1), MAX_RADIUS_MILES)
        ranked = _by_distance(queryset, criteria.near, radius)
        total = len(ranked)
        window = ranked[offset : offset + per_page]
        distances = dict(window)
        page_query = Service.objects.filter(pk__in=[pk for pk, _ in window])
        # Facets count the exact matches; past a few thousand, the bounding box's.
        matching: QuerySet[Service] | list[uuid.UUID] = (
            [pk for pk, _ in ranked] if total <= 5000 else queryset
        )
    else:
        total = queryset.count()
        page_query = queryset.order_by("name", "pk")[offset : offset + per_page]
        matching = queryset
    page_query = page_query.select_related("organization", "program", "capacity")
    if prepare is not None:
        page_query = prepare(page_query)
    services = list(page_query)
    if distances:
        services.sort(key=lambda s: (distances[s.pk], s.pk))
    hits = [Hit(s, distances.get(s.pk)) for s in services]
    results = Results(total, hits, page, per_page, searched, corrected)
    if with_facets and total:
        results.facets = facets(matching)
    return results


def _ids(matching: QuerySet[Service] | list[uuid.UUID]) -> Any:
    if isinstance(matching, list):
        return matching
    return matching.values("pk")


def facets(matching: QuerySet[Service] | list[uuid.UUID]) -> dict[str, list[Facet]]:
    """How many matching services each further choice would leave (needs, features,
    languages, free, capacity)."""
    ids = _ids(matching)
    term_counts = dict(
        Attribute.objects.filter(link_entity="service", link_id__in=ids)
        .values_list("taxonomy_term_id")
        .annotate(n=Count("id"))
        .values_list("taxonomy_term_id", "n")
    )
    needs = [
        Facet(str(t.id), t.label, term_counts[t.id])
        for t in taxonomy.NEED_TERMS
        if term_counts.get(t.id)
    ]
    features = [
        Facet(t.code, t.label, term_counts[t.id])
        for t in taxonomy.FEATURES
        if term_counts.get(t.id)
    ]
    languages = [
        Facet(code, code, n)
        for code, n in Language.objects.filter(service_id__in=ids)
        .exclude(code="")
        .values_list("code")
        .annotate(n=Count("service_id", distinct=True))
        .values_list("code", "n")
        .order_by("-n", "code")[:12]
    ]
    other = [
        Facet("free", "free", Service.objects.filter(free_q(), pk__in=ids).count()),
        Facet(
            "capacity",
            "capacity",
            Service.objects.filter(pk__in=ids, capacity__available__gt=0).count(),
        ),
    ]
    return {"needs": needs, "features": features, "languages": languages, "other": other}


def need_terms() -> list[TaxonomyTerm]:
    """Every taxonomy term attached to a service, for the workers' need choice."""
    used = Attribute.objects.filter(link_entity="service").values("taxonomy_term_id")
    return list(TaxonomyTerm.objects.filter(pk__in=used).order_by("name"))
