"""The search rows: one ``ServiceSearch`` per service, everything search filters on.

A row is derived from the service and its related objects (organisation, attributes, languages,
cost options, capacity, public locations and their addresses) and rebuilt whenever one of them
changes: by the importer (every service an import touches), by the services of ``services.py``
and by the admin's save and delete hooks. ``search.py`` only reads the rows.

The full-text engine indexes ``document``: the folded words of the service (name, alternate
name, description, organisation name, term names; never an address) and tokens for the filters
that are sets, so one full-text match answers the words and those filters together:

- ``_t<term id hex>`` for each taxonomy term attached (needs, features, genders),
  ``_gany`` when no gender term is (the service is for everyone);
- ``_l<code as UTF-8 hex>`` for each language of the service;
- ``_free`` (a cost option of 0 and none above 0), ``_cap`` (capacity available now);
- ``_o<organisation id hex>``; ``_p<postal code as UTF-8 hex>`` of each public location;
- grid cells of each public location at 1/16°, 0.25°, 1° and 4° (``cell_tokens``; the 1/16°
  cells since migration 0006, for the nearest-first search's ring of cells, ``search.py``).

Every token starts with "_", which a searched word never contains (``words`` splits on it), so
no word typed by a user can match a token, even as a prefix. A confidential location gives no
cell, no coordinates and no postcode: they would place it.

SQLite keeps the documents in the FTS5 table ``directory_servicesearch_fts`` (the tokenizer
keeps "_" inside tokens), one row per service at a rowid numbered by place (``fts_base``,
migration 0008), with (unindexed) what a distance search reads per match: active, the ages, the
points and the first point's unit vector (migration 0004); PostgreSQL indexes
``array_to_tsvector(string_to_array(document, ' '))`` with GIN (migration 0003): the lexemes are
exactly our words and tokens, no parser in between.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction

from . import bulk, taxonomy
from .choices import ServiceStatus
from .models import (
    Address,
    Attribute,
    Capacity,
    CostOption,
    Language,
    SearchWord,
    Service,
    ServiceAtLocation,
    ServiceSearch,
    TaxonomyTerm,
)

_WORD = re.compile(r"[^\W_]+")
MAX_WORD = 64
CHUNK = 2000
# Grid levels, finest first: (name in the token, cell size in degrees). 360 / size is whole.
# Every size is a power of two, so a point's cell (floor of lat / size) and the cell's edges
# (row * size) are exact in floating point: no point falls outside the cell it is indexed in.
GRID_LEVELS = (("0625", 0.0625), ("25", 0.25), ("1", 1.0), ("4", 4.0))
_ROW_OFFSET = 1000  # keeps row numbers positive (a "-" would split the token)
GENDER_ANY = "_gany"
FREE = "_free"
CAPACITY = "_cap"
_EXPLOITED = taxonomy.term_id(taxonomy.EXPLOITED_YOUTH)
_CRISIS_24_7 = taxonomy.term_id(taxonomy.CRISIS_24_7)
_GENDERS = {t.id: t.code.removeprefix(f"{taxonomy.GENDER}-") for t in taxonomy.GENDER_TERMS}


# --------------------------------------------------------------------------- text


def normalise(text: str) -> str:
    """Lower case, accents removed (niños -> ninos), as both engines will see it."""
    if text.isascii():  # the common case: nothing to decompose, casefold is lower
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return [w[:MAX_WORD] for w in _WORD.findall(normalise(text))]


def document(parts: Iterable[str]) -> str:
    """The folded search text of a service from its parts."""
    return " ".join(words(" ".join(p for p in parts if p)))


# --------------------------------------------------------------------------- tokens


def term_token(term_id: uuid.UUID) -> str:
    return f"_t{term_id.hex}"


def language_token(code: str) -> str:
    return f"_l{code.encode().hex()}"


def postcode_token(code: str) -> str:
    return f"_p{code.encode().hex()}"


def organization_token(organization_id: uuid.UUID) -> str:
    return f"_o{organization_id.hex}"


def cell(level: str, size: float, row: int, column: int) -> str:
    """The token of a grid cell; the column wraps around the antimeridian."""
    return f"_c{level}_{row + _ROW_OFFSET}_{column % round(360 / size)}"


def cell_tokens(lat: float, lon: float) -> list[str]:
    """The cells of a point, one per grid level."""
    return [
        cell(level, size, math.floor(lat / size), math.floor(lon / size))
        for level, size in GRID_LEVELS
    ]


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """A point on the unit sphere: the great-circle distance between two points falls as the
    dot product of their vectors rises, so the nearest can be sorted and counted by plain SQL
    arithmetic (``search.py``)."""
    phi, lam = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


# SQLite's full-text rows are numbered by place (``fts_base``): the 1/16° cell of the first
# public point, row by row (24 bits), then 39 bits of the service's id.
_PLACE_SIZE = 0.0625
_PLACE_ROWS, _PLACE_COLUMNS = 2880, 5760  # 180 / size, 360 / size
_NO_PLACE = _PLACE_ROWS * _PLACE_COLUMNS  # rows without a public point come after the others
_ID_BITS = 39
# A service's entry takes the first free rowid of [base, base + FTS_WINDOW), and is found again
# by its service id within that window.
FTS_WINDOW = 64


def fts_base(pk: uuid.UUID, points: str) -> int:
    """The first FTS5 rowid a service's entry may take (SQLite; migration 0008).

    FTS5 lists each token's rows in rowid order, and a distance search reads a few neighbouring
    cells: numbered by place, those rows lie together, so FTS5 reads the long lists of frequent
    tokens (free, a language, a common word) only around them (it skips the rest through its
    doclist indexes) instead of from end to end. The id's bits keep the rowid a look-up away
    (no scan of the unindexed ``service_id``). Two services of one cell share a base with a
    chance of about n² in 2**40 for n services in the cell; the later one then takes the next
    free rowid of the window (``save_rows``), never the other's."""
    return (place_number(points) << _ID_BITS) | (pk.int >> (128 - _ID_BITS))


def place_number(points: str) -> int:
    """The 1/16° cell of the first of these points, numbered row by row (after every cell when
    there is none): the order search rows are stored in, so that neighbours lie together
    (SQLite's rowids, ``fts_base``; PostgreSQL's inserts, ``importer``, and ``optimize``, whose
    index computes the same number in SQL: migration 0007)."""
    first = points.split(" ", 1)[0]
    if not first:
        return _NO_PLACE
    lat, _comma, lon = first.partition(",")
    row = min(max(math.floor(float(lat) / _PLACE_SIZE) + _PLACE_ROWS // 2, 0), _PLACE_ROWS - 1)
    return row * _PLACE_COLUMNS + math.floor(float(lon) / _PLACE_SIZE) % _PLACE_COLUMNS


# --------------------------------------------------------------------------- rows


@dataclass
class Facts:
    """What the search row of one service is made from."""

    service_id: uuid.UUID
    name: str = ""
    alternate_name: str = ""
    description: str = ""
    status: str = ServiceStatus.ACTIVE
    minimum_age: float | None = None
    maximum_age: float | None = None
    last_modified: datetime.datetime | None = None
    organization_id: uuid.UUID | None = None
    organization_name: str = ""
    terms: dict[uuid.UUID, str] = field(default_factory=dict)  # term id -> name
    languages: set[str] = field(default_factory=set)
    amounts: list[float | None] = field(default_factory=list)
    capacity_available: int | None = None
    points: list[tuple[float, float]] = field(default_factory=list)  # public locations only
    postcodes: set[str] = field(default_factory=set)  # of public locations only

    # Both ways of gathering facts (``gather`` from the database, the importer from the objects
    # it has just written) add what they find through these, so that the rules are one.

    def add_term(self, term_id: uuid.UUID, name: str) -> None:
        """A taxonomy term attached to the service (an attribute with ``link_entity`` service)."""
        self.terms[term_id] = name

    def add_language(self, code: str) -> None:
        self.languages.add(code)

    def add_cost(self, amount: float | None) -> None:
        self.amounts.append(amount)

    def add_location(
        self,
        *,
        confidential: bool,
        latitude: float | None,
        longitude: float | None,
        postcodes: Iterable[str],
    ) -> None:
        """A place the service is offered at (in the order of its service-at-location ids). A
        confidential one adds nothing: its point or postcode would place it."""
        if confidential:
            return
        if latitude is not None and longitude is not None and _valid_point(latitude, longitude):
            self.points.append((latitude, longitude))
        self.postcodes.update(postcodes)


@dataclass(slots=True, frozen=True)
class SearchRow:
    """The values of one ``ServiceSearch`` row, as ``save_rows`` writes them (a plain object:
    an unsaved model instance cost more to make than the row's text)."""

    service_id: uuid.UUID
    active: bool
    minimum_age: float | None
    maximum_age: float | None
    genders: str
    languages: str
    terms: str
    free: bool
    capacity_available: bool
    exploited_youth: bool
    open_24_7: bool
    organization_id: uuid.UUID | None
    last_modified: datetime.datetime | None
    points: str
    text: str
    document: str
    x: float | None = None
    y: float | None = None
    z: float | None = None
    more_points: bool = False


def build_row(facts: Facts) -> SearchRow:
    """The search row of a service."""
    text = document(
        [
            facts.name,
            facts.alternate_name,
            facts.description,
            facts.organization_name,
            *sorted(facts.terms.values()),
        ]
    )
    terms = sorted(facts.terms, key=str)
    genders = sorted(_GENDERS[t] for t in terms if t in _GENDERS)
    languages = sorted(code for code in facts.languages if code)
    free = any(a == 0 for a in facts.amounts) and not any(
        a is not None and a > 0 for a in facts.amounts
    )
    capacity = facts.capacity_available is not None and facts.capacity_available > 0
    tokens = [term_token(t) for t in terms]
    if not genders:
        tokens.append(GENDER_ANY)
    tokens += [language_token(code) for code in languages]
    if free:
        tokens.append(FREE)
    if capacity:
        tokens.append(CAPACITY)
    if facts.organization_id is not None:
        tokens.append(organization_token(facts.organization_id))
    tokens += [postcode_token(code) for code in sorted(facts.postcodes) if code]
    cells: set[str] = set()
    for lat, lon in facts.points:
        cells.update(cell_tokens(lat, lon))
    tokens += sorted(cells)
    x, y, z = unit_vector(*facts.points[0]) if facts.points else (None, None, None)
    return SearchRow(
        service_id=facts.service_id,
        active=facts.status == ServiceStatus.ACTIVE,
        minimum_age=facts.minimum_age,
        maximum_age=facts.maximum_age,
        genders=" ".join(genders),
        languages=" ".join(languages),
        terms=" ".join(t.hex for t in terms),
        free=free,
        capacity_available=capacity,
        exploited_youth=_EXPLOITED in facts.terms,
        open_24_7=_CRISIS_24_7 in facts.terms,
        organization_id=facts.organization_id,
        last_modified=facts.last_modified,
        points=" ".join(f"{lat!r},{lon!r}" for lat, lon in facts.points),
        text=text,
        document=" ".join(filter(None, [text, *tokens])),
        x=x,
        y=y,
        z=z,
        more_points=len(facts.points) > 1,
    )


def gather(service_ids: Iterable[uuid.UUID]) -> list[Facts]:
    """The facts of these services, read from the database (a fixed number of queries per
    chunk of 2,000). Ids of services that do not exist are left out."""
    ids = list(dict.fromkeys(service_ids))
    result: list[Facts] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        facts = {
            pk: Facts(
                service_id=pk,
                name=name,
                alternate_name=alternate,
                description=description,
                status=status,
                minimum_age=low,
                maximum_age=high,
                last_modified=modified,
                organization_id=org_id,
                organization_name=org_name,
            )
            for pk, name, alternate, description, status, low, high, modified, org_id, org_name in (
                Service.objects.filter(pk__in=chunk)
                .order_by()
                .values_list(
                    "pk",
                    "name",
                    "alternate_name",
                    "description",
                    "status",
                    "minimum_age",
                    "maximum_age",
                    "last_modified",
                    "organization_id",
                    "organization__name",
                )
            )
        }
        if not facts:
            continue
        found = list(facts)
        term_names: dict[uuid.UUID, str] = {}
        attached: list[tuple[uuid.UUID, uuid.UUID]] = list(
            Attribute.objects.filter(link_entity="service", link_id__in=found)
            .order_by()
            .values_list("link_id", "taxonomy_term_id")
        )
        wanted_terms = {term for _link, term in attached}
        if wanted_terms:
            term_names = dict(
                TaxonomyTerm.objects.filter(pk__in=wanted_terms).values_list("pk", "name")
            )
        for link_id, term in attached:
            facts[link_id].add_term(term, term_names.get(term, ""))
        for service_id, code in (
            Language.objects.filter(service_id__in=found)
            .order_by()
            .values_list("service_id", "code")
        ):
            facts[service_id].add_language(code)
        for service_id, amount in (
            CostOption.objects.filter(service_id__in=found)
            .order_by()
            .values_list("service_id", "amount")
        ):
            facts[service_id].add_cost(amount)
        for service_id, available in (
            Capacity.objects.filter(service_id__in=found)
            .order_by()
            .values_list("service_id", "available")
        ):
            facts[service_id].capacity_available = available
        places = list(
            ServiceAtLocation.objects.filter(service_id__in=found)
            .order_by("pk")
            .values_list(
                "service_id",
                "location_id",
                "location__is_confidential",
                "location__latitude",
                "location__longitude",
            )
        )
        postcodes = postcodes_of({loc for _s, loc, confidential, *_ in places if not confidential})
        for service_id, location_id, confidential, lat, lon in places:
            facts[service_id].add_location(
                confidential=confidential,
                latitude=lat,
                longitude=lon,
                postcodes=postcodes.get(location_id, ()),
            )
        result.extend(facts.values())
    return result


def postcodes_of(location_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The postal codes of these locations' addresses (chunks of 2,000)."""
    ids = list(location_ids)
    result: dict[uuid.UUID, set[str]] = defaultdict(set)
    for start in range(0, len(ids), CHUNK):
        for location_id, code in (
            Address.objects.filter(location_id__in=ids[start : start + CHUNK])
            .order_by()
            .values_list("location_id", "postal_code")
        ):
            result[location_id].add(code)
    return result


def _valid_point(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def rebuild(service_ids: Iterable[uuid.UUID]) -> int:
    """Recompute the search rows of these services (and forget those that no longer exist).
    Returns how many rows were written."""
    ids = list(dict.fromkeys(service_ids))
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = [build_row(f) for f in gather(chunk)]
        present = {row.service_id for row in rows}
        gone = [pk for pk in chunk if pk not in present]
        if gone:
            forget(gone)
        save_rows(rows)
        written += len(rows)
    return written


def rebuild_all() -> int:
    """Rebuild every service's row (``manage.py reindex_directory``)."""
    ids = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    return rebuild(ids)


_ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(SearchRow))  # the table's columns


def _row_values(row: SearchRow) -> tuple[Any, ...]:
    ops = connection.ops
    sqlite = connection.vendor == "sqlite"
    org = row.organization_id
    return (
        row.service_id.hex if sqlite else row.service_id,
        row.active,
        row.minimum_age,
        row.maximum_age,
        row.genders,
        row.languages,
        row.terms,
        row.free,
        row.capacity_available,
        row.exploited_youth,
        row.open_24_7,
        (org.hex if sqlite else org) if org is not None else None,
        ops.adapt_datetimefield_value(row.last_modified),
        row.points,
        row.text,
        row.document,
        row.x,
        row.y,
        row.z,
        row.more_points,
    )


def save_rows(rows: list[SearchRow], *, new: bool = False) -> None:
    """Write search rows (``bulk``: the ORM's per-object work would dominate an import), their
    full-text entries and their words (for typo correction). ``new``: the rows' services were
    not in the directory when this transaction began, so they have no rows yet."""
    if not rows:
        return
    sqlite = connection.vendor == "sqlite"
    if sqlite and not new:
        _forget_entries(_entries_of([row.service_id for row in rows]))
    values = [_row_values(row) for row in rows]
    if new:
        bulk.insert(ServiceSearch._meta.db_table, _ROW_COLUMNS, values)
    else:
        bulk.upsert(
            ServiceSearch._meta.db_table,
            _ROW_COLUMNS,
            values,
            key=_ROW_COLUMNS[0],
            update=_ROW_COLUMNS[1:],
        )
    if sqlite:
        _add_entries(rows)
    new_words = sorted({w for row in rows for w in row.text.split() if len(w) >= 2})
    if new_words:
        bulk.upsert(
            SearchWord._meta.db_table, ["word"], [(w,) for w in new_words], key="word", update=()
        )


def forget(service_ids: Iterable[uuid.UUID]) -> None:
    """Remove the search rows (and full-text entries: ``forget_entry``) of services deleted or
    about to be."""
    ServiceSearch.objects.filter(service_id__in=list(service_ids)).delete()


def forget_entry(sender: Any, instance: ServiceSearch, using: str, **kwargs: Any) -> None:
    """Before a search row is deleted (by ``forget``, or with its service), its full-text entry
    goes (SQLite), found through the row's points (``fts_base``). Connected in apps.py."""
    if connections[using].vendor == "sqlite":
        entry = (fts_base(instance.service_id, instance.points), instance.service_id.hex)
        _forget_entries([entry], using)


# --------------------------------------------------------------------------- SQLite's FTS5 rows

_FTS_INSERT = (
    "INSERT INTO directory_servicesearch_fts (rowid, service_id, active, minimum_age, "
    "maximum_age, more_points, x, y, z, points, body) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _entries_of(service_ids: list[uuid.UUID]) -> list[tuple[int, str]]:
    """Where the full-text entries of these services are: (base, id hex), from their search
    rows' points as they are now (before a rewrite)."""
    found: list[tuple[uuid.UUID, str]] = []
    for start in range(0, len(service_ids), CHUNK):
        chunk = service_ids[start : start + CHUNK]
        found += ServiceSearch.objects.filter(service_id__in=chunk).values_list(
            "service_id", "points"
        )
    return [(fts_base(pk, points), pk.hex) for pk, points in found]


def _forget_entries(entries: list[tuple[int, str]], using: str = DEFAULT_DB_ALIAS) -> None:
    with connections[using].cursor() as cursor:
        cursor.executemany(
            "DELETE FROM directory_servicesearch_fts "
            "WHERE rowid BETWEEN %s AND %s AND service_id = %s",
            [(base, base + FTS_WINDOW - 1, hex_id) for base, hex_id in entries],
        )


def _add_entries(rows: list[SearchRow]) -> None:
    """Insert the rows' full-text entries, each at its base (``fts_base``); should a rowid be
    taken (two services of one cell sharing 39 bits of id), each at the first free rowid of its
    window instead."""
    params: list[list[Any]] = [
        [
            fts_base(row.service_id, row.points),
            row.service_id.hex,
            row.active,
            row.minimum_age,
            row.maximum_age,
            row.more_points,
            row.x,
            row.y,
            row.z,
            row.points,
            row.document,
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.executemany(_FTS_INSERT, params)
            return
        except IntegrityError:
            pass  # rolled back to the savepoint: one by one, probing
        for entry in params:
            base: int = entry[0]
            cursor.execute(
                "SELECT rowid FROM directory_servicesearch_fts WHERE rowid BETWEEN %s AND %s",
                [base, base + FTS_WINDOW - 1],
            )
            taken = {rowid for (rowid,) in cursor.fetchall()}
            free = next((r for r in range(base, base + FTS_WINDOW) if r not in taken), None)
            if free is None:  # 64 services of one cell sharing 39 bits of id: never by chance
                raise IntegrityError(f"No free full-text row near {base} for {entry[1]}.")
            entry[0] = free
            cursor.execute(_FTS_INSERT, entry)


def optimize() -> None:
    """After a large import (``manage.py optimize_directory``), put the search rows in the order
    searches read them.

    - PostgreSQL rewrites the table in place order (``CLUSTER`` on the index of migration 0007,
      ``place_number`` in SQL) and its statistics. The GIN index lists a token's rows in the
      table's order, so a distance search, which reads a few neighbouring cells, then reads the
      long lists of frequent tokens (free, a language, a common word) only around those rows
      instead of from end to end. Imports write their new rows in place order too, but rows
      of several imports, and updated rows, interleave until the next run. ``CLUSTER`` locks
      the table while it runs (reads too): about half a minute at a million services.
    - SQLite merges the full-text index into one segment (FTS5's "optimize"; row by row
      inserts leave many, and every search reads each one: a third of a search's time at
      100,000 services)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # CLUSTER refuses a table with deferred checks pending (an import earlier in the
            # same transaction): run them now, as the commit would.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("CLUSTER directory_servicesearch USING directory_servicesearch_place")
            cursor.execute("ANALYZE directory_servicesearch")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "INSERT INTO directory_servicesearch_fts (directory_servicesearch_fts) "
                "VALUES ('optimize')"
            )


# --------------------------------------------------------------------------- what to rebuild


def services_of_organizations(organization_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(
        Service.objects.filter(organization_id__in=list(organization_ids)).values_list(
            "pk", flat=True
        )
    )


def services_at_locations(location_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(
        ServiceAtLocation.objects.filter(location_id__in=list(location_ids))
        .values_list("service_id", flat=True)
        .distinct()
    )


def services_with_terms(term_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(
        Attribute.objects.filter(taxonomy_term_id__in=list(term_ids), link_entity="service")
        .values_list("link_id", flat=True)
        .distinct()
    )


def services_with_attributes(service_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these services have attributes in the directory."""
    return bulk.present(
        Attribute._meta.db_table, "link_id", service_ids, where="link_entity = 'service'"
    )
