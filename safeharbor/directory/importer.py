"""Importing HSDS 3.0: JSON (full objects, lists, paginated API responses) and the tabular
datapackage (CSV files + datapackage.json).

The import runs in four steps and writes only if the first three found no error:

1. **Read** each file; every object (JSON) or row (CSV, typed by the official datapackage) is
   validated against the official schema of its kind (``schemas.fast_validator``).
2. **Convert** each field to our column's type (dates, times, numbers, UUIDs, lengths, text a
   database can store), and check our own rules (age range, capacity).
3. **Resolve references**: every foreign key the datapackage declares must name an object in
   this import or already in the directory. By default a dangling reference is an error; with
   ``lenient=True`` it is removed (an optional reference is emptied; a row that cannot stand
   without it is left out, and so, in turn, is every row that needed that one), and each removal
   is reported (docs/decisions/0007-hsds-dangling-references.md).
4. **Write**, in one transaction, every object inserted or updated by its HSDS id (never
   deleted; ``bulk.upsert``), the search index refreshed: rows of services new to the directory
   built from the import's own objects, the others read back (``index.rebuild``).

Every problem is an ``Issue`` naming its file, row (the CSV line, or the position of the object
in a JSON list, from 1) and field (a CSV column, or a path into the JSON object), and nothing is
written unless there were none. Malformed input never raises: it becomes issues.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import functools
import gc
import io
import json
import math
import operator
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from . import bulk, schemas, taxonomy
from . import index as search_rows
from .hsds import ENTITIES, NOT_KEPT, WRITE_ORDER, Entity
from .models import Address, Attribute, Capacity, Location, Organization, TaxonomyTerm

Progress = Callable[[str, int, int], None]
BATCH = 5000
_INTEGER = re.compile(r"^[+-]?\d+$")
JSON_KINDS = {
    "service": "compiled/service.json",
    "organization": "compiled/organization.json",
    "service_at_location": "compiled/service_at_location.json",
    "taxonomy": "taxonomy.json",
    "taxonomy_term": "taxonomy_term.json",
}
_NOT_UUID = "Must be a UUID."
_CAPACITY_TERM = taxonomy.term_id(taxonomy.CAPACITY).hex
_CONFIDENTIAL_TERM = taxonomy.term_id(taxonomy.CONFIDENTIAL_LOCATION).hex


@dataclass(frozen=True)
class Issue:
    """One problem, and where it is."""

    file: str
    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(self.field)
        return f"{', '.join(where)}: {self.message}"


@dataclass
class ImportReport:
    """What an import did, or why it did nothing."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    removed_references: list[Issue] = field(default_factory=list)
    not_kept: dict[str, int] = field(default_factory=dict)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def services(self) -> int:
        return self.created.get("service", 0) + self.updated.get("service", 0)

    def summary(self) -> str:
        if self.errors:
            return f"Nothing imported: {len(self.errors)} error(s)."
        parts = [
            f"{name}: {self.created.get(name, 0)} new, {self.updated.get(name, 0)} updated"
            for name in [*WRITE_ORDER, "capacity"]
            if self.created.get(name) or self.updated.get(name)
        ]
        text = "; ".join(parts) or "nothing to import"
        if self.removed_references:
            text += f". {len(self.removed_references)} dangling reference(s) removed"
        return text + "."


@dataclass(slots=True)
class Row:
    entity: str
    values: dict[str, Any]  # HSDS field -> value as read (JSON types); other keys are passed over
    file: str
    row: int | None
    path: str  # "" for a CSV row; a JSON path for a nested object

    def where(self, hsds_field: str) -> str:
        if self.path and hsds_field:
            return f"{self.path}.{hsds_field}"
        return self.path or hsds_field


@dataclass
class Source:
    """A file to import: its name (for the report) and its bytes."""

    name: str
    content: bytes


# --------------------------------------------------------------------------- reading JSON


def guess_kind(filename: str) -> str:
    stem = Path(filename).name.lower()
    for kind in ("service_at_location", "organization", "taxonomy_term", "taxonomy"):
        if stem.startswith(kind):
            return kind
    return "service"


def _json_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_json(source: Source, kind: str | None, issues: list[Issue]) -> list[Row]:
    """Rows of one JSON file: an object, a list of objects, or a page (``contents``)."""
    kind = kind or guess_kind(source.name)
    try:
        document = json.loads(source.content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        issues.append(Issue(source.name, None, "", "The file is not UTF-8 text."))
        return []
    except (ValueError, RecursionError) as exc:
        issues.append(Issue(source.name, None, "", f"The file is not valid JSON: {exc}."))
        return []
    if isinstance(document, dict) and "contents" in document:
        items = document["contents"]
        if not isinstance(items, list):
            issues.append(Issue(source.name, None, "contents", "Must be a list of objects."))
            return []
    elif isinstance(document, dict):
        items = [document]
    elif isinstance(document, list):
        items = document
    else:
        issues.append(
            Issue(source.name, None, "", "Expected an object, a list of objects or a page.")
        )
        return []
    validator = schemas.fast_validator(JSON_KINDS[kind])
    rows: list[Row] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            issues.append(Issue(source.name, index, "", f"Expected a {kind} object."))
            continue
        try:
            errors = [] if validator.is_valid(item) else list(validator.iter_errors(item))
        except (ValueError, RecursionError) as exc:  # e.g. numbers beyond what a validator holds
            errors = []
            issues.append(Issue(source.name, index, "", f"Could not be validated: {exc}."))
            continue
        if errors:
            issues.extend(
                Issue(source.name, index, _json_path(e.instance_path), e.message) for e in errors
            )
            continue
        _flatten(kind, item, source.name, index, "", {}, rows)
    return rows


def _flatten(
    name: str,
    obj: dict[str, Any],
    file: str,
    index: int,
    path: str,
    forced: dict[str, Any],
    out: list[Row],
) -> None:
    """One nested object and everything inside it, as rows; a nested object's link to its
    parent comes from where it is nested."""
    entity = ENTITIES[name]
    # The object's keys as they are (``convert`` keeps the entity's fields and passes over
    # the rest: nested lists, keys of no field): a copy only where keys are added.
    if forced:
        values = {**obj, **forced}
    elif entity.singles:
        values = dict(obj)
    else:
        values = obj
    out.append(Row(name, values, file, index, path))
    own_id = obj.get("id")
    for key, (child, back) in entity.children.items():
        items = obj.get(key)
        if not isinstance(items, list):
            continue
        for position, child_obj in enumerate(items):
            if not isinstance(child_obj, dict):
                continue
            link = (
                {"link_id": own_id, "link_entity": name} if child == "attribute" else {back: own_id}
            )
            child_path = f"{path}.{key}[{position}]" if path else f"{key}[{position}]"
            _flatten(child, child_obj, file, index, child_path, link, out)
    for key, (single, own_field) in entity.singles.items():
        sub = obj.get(key)
        if isinstance(sub, dict) and "id" in sub:
            values[own_field] = sub["id"]
            inherited = {}
            if name == "service" and single == "program" and "organization_id" not in sub:
                # A programme nested in a service belongs to the service's organisation.
                inherited = {"organization_id": values.get("organization_id")}
            _flatten(single, sub, file, index, f"{path}.{key}" if path else key, inherited, out)


# --------------------------------------------------------------------------- reading CSV


def _csv_types() -> dict[str, dict[str, str]]:
    """Resource name -> field -> the official datapackage's type."""
    return {
        resource["name"]: {f["name"]: f["type"] for f in resource["schema"]["fields"]}
        for resource in schemas.datapackage()["resources"]
    }


def _csv_value(kind: str, text: str) -> Any:
    """A CSV cell as the JSON value the object schema expects; ValueError if it is not one."""
    if kind == "number":
        if _INTEGER.match(text.strip()):
            return int(text)
        value = float(text)
        if not math.isfinite(value):
            raise ValueError
        return value
    return text


def read_datapackage(sources: dict[str, Source], issues: list[Issue]) -> tuple[list[Row], dict]:
    """Rows of a tabular datapackage: ``sources`` maps file names (``services.csv``,
    ``datapackage.json``) to their contents. Returns the rows and counts of rows not kept."""
    paths = {e.name: e.csv for e in ENTITIES.values()} | dict(NOT_KEPT)
    descriptor = sources.get("datapackage.json")
    if descriptor is not None:
        try:
            package = json.loads(descriptor.content.decode("utf-8-sig"))
            for resource in package["resources"]:
                if isinstance(resource, dict) and isinstance(resource.get("path"), str):
                    paths[str(resource["name"])] = resource["path"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            issues.append(
                Issue(
                    "datapackage.json",
                    None,
                    "resources",
                    "Not a datapackage descriptor with a list of resources (name, path).",
                )
            )
            return [], {}
    types = _csv_types()
    rows: list[Row] = []
    not_kept: dict[str, int] = {}
    for name, path in paths.items():
        source = sources.get(path)
        if source is None:
            continue
        records = list(_read_csv(source, issues))
        if name in NOT_KEPT or name not in ENTITIES:
            if records:
                not_kept[name] = len(records)
            continue
        validator = schemas.fast_validator(ENTITIES[name].schema)
        field_types = types[name]
        for line, record in records:
            values: dict[str, Any] = {}
            bad = False
            for column, text in record.items():
                if column not in field_types or text is None or text == "":
                    continue
                try:
                    values[column] = _csv_value(field_types[column], text)
                except ValueError:
                    issues.append(Issue(path, line, column, f"{text!r} is not a number."))
                    bad = True
            if bad:
                continue
            errors = [] if validator.is_valid(values) else list(validator.iter_errors(values))
            if errors:
                issues.extend(
                    Issue(path, line, _json_path(e.instance_path) or _missing(e.message), e.message)
                    for e in errors
                )
                continue
            rows.append(Row(name, values, path, line, ""))
    return rows, not_kept


def _missing(message: str) -> str:
    """The field a "'x' is a required property" message is about."""
    match = re.match(r'^"(.+)" is a required property$', message)
    return match.group(1) if match else ""


def _read_csv(source: Source, issues: list[Issue]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = source.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        issues.append(Issue(source.name, None, "", "The file is not UTF-8 text."))
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            record.pop(None, None)  # cells beyond the header
            yield reader.line_num, record
    except csv.Error as exc:
        issues.append(Issue(source.name, reader.line_num, "", f"Not readable as CSV: {exc}."))


# --------------------------------------------------------------------------- converting


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "Contains a NUL character, which cannot be stored."
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Is not valid Unicode text."
    return None


def _kind(model_field: models.Field) -> str:
    target = getattr(model_field, "target_field", model_field)
    for kind, types in (
        ("uuid", models.UUIDField),
        ("float", models.FloatField),
        ("datetime", models.DateTimeField),
        ("date", models.DateField),
        ("time", models.TimeField),
    ):
        if isinstance(target, types):
            return kind
    return "text"


def _convert(kind: str, limit: int | None, value: Any) -> Any:
    """The column value for an HSDS value; ValueError with a message saying what is wanted."""
    if kind == "text" and type(value) is str:
        if limit and len(value) > limit:
            raise ValueError(f"At most {limit} characters.")
        problem = _text_problem(value)
        if problem:
            raise ValueError(problem)
        return value
    if kind == "uuid":
        known = _uuid_hex(value) if isinstance(value, str) else None
        if known is None:
            raise ValueError(_NOT_UUID)
        return known
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("Must be a number.")
        number = float(value)
        if not math.isfinite(number) or abs(number) > 1e15:
            raise ValueError("Must be a finite number.")
        return number
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    problem = _text_problem(value)
    if problem:
        raise ValueError(problem)
    if kind == "datetime":
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("Must be a date and time (ISO 8601).") from None
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed
    if kind == "date":
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ValueError("Must be a date (YYYY-MM-DD).") from None
    if kind == "time":
        try:
            return datetime.time.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            raise ValueError("Must be a time (HH:MM or HH:MM:SS).") from None
    raise ValueError("Must be text.")  # pragma: no cover  (every kind is handled above)


# Ids, from conversion to writing, are UUIDs written as 32 lower-case hex digits: as SQLite
# stores them and PostgreSQL reads them, hashed and compared in C (``uuid.UUID`` is made,
# hashed, compared and turned into hex in Python: about a sixth of the importer's Python time
# under cProfile). ``uuid.UUID`` only where index.py or the ORM hands ids over.
Id = str
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid_hex(text: str) -> Id | None:
    """A UUID as 32 lower-case hex digits, or None if the text is not one (any form that
    ``uuid.UUID`` reads: upper case, braces, no hyphens)."""
    if _CANONICAL_UUID.fullmatch(text):
        return text.replace("-", "")
    try:
        return uuid.UUID(text).hex
    except ValueError:
        return None


def _show(pk: Id) -> str:
    """An id as people read it (with hyphens), for messages."""
    return str(uuid.UUID(hex=pk))


@dataclass(slots=True)
class Converted:
    entity: str
    id: Id
    values: dict[str, Any]  # model attname -> value (ids as ``Id``)
    origin: Row


@functools.cache
def _field(entity_name: str, hsds_field: str) -> tuple[str, str, int | None]:
    """The column of an HSDS field: its attribute name, kind and length limit."""
    entity = ENTITIES[entity_name]
    attname = entity.attname(hsds_field)
    model_field = cast(models.Field, entity.model._meta.get_field(attname))
    return attname, _kind(model_field), getattr(model_field, "max_length", None)


@functools.cache
def _required_refs(entity_name: str) -> frozenset[str]:
    return frozenset(ENTITIES[entity_name].required_refs())


@functools.cache
def _fields(entity_name: str) -> dict[str, tuple[str, str, int | None]]:
    """Every HSDS field of the entity: its attribute name, kind and length limit."""
    return {f: _field(entity_name, f) for f in ENTITIES[entity_name].fields}


@functools.cache
def _required_attnames(entity_name: str) -> tuple[str, ...]:
    entity = ENTITIES[entity_name]
    return tuple(entity.attname(f) for f in _required_refs(entity_name))


_OWN_RULES = frozenset({"service", "attribute"})  # entities with rules beyond references
_PARSED = frozenset({"datetime", "date", "time"})


def convert(rows: list[Row], issues: list[Issue]) -> list[Converted]:
    result = []
    # Ids repeat (every child names its parent), and so do dates and times (schedules):
    # each text is parsed once per import.
    uuids: dict[str, Id] = {}
    parsed: dict[tuple[str, str], Any] = {}
    plans: dict[str, tuple[dict[str, tuple[str, str, int | None]], tuple[str, ...]]] = {}
    for row in rows:
        entity_name = row.entity
        plan = plans.get(entity_name)
        if plan is None:
            plan = plans[entity_name] = (_fields(entity_name), _required_attnames(entity_name))
        fields, required = plan
        values: dict[str, Any] = {}
        ok = True
        for hsds_field, raw in row.values.items():
            spec = fields.get(hsds_field)
            if spec is None:  # a nested list, or a key of no field (JSON)
                continue
            attname, kind, limit = spec
            if raw is None:
                values[attname] = None
                continue
            # The common cases, without a call: plain text that fits, an id, a date or time
            # seen before, a number in range.
            if type(raw) is str:
                if kind == "text":
                    if (not limit or len(raw) <= limit) and "\x00" not in raw and raw.isascii():
                        values[attname] = raw
                        continue
                elif kind == "uuid":
                    known = uuids.get(raw)
                    if known is None:
                        known = _uuid_hex(raw)
                        if known is None:
                            issues.append(
                                Issue(row.file, row.row, row.where(hsds_field), _NOT_UUID)
                            )
                            ok = False
                            continue
                        uuids[raw] = known
                    values[attname] = known
                    continue
                elif kind in _PARSED:
                    seen = parsed.get((kind, raw))
                    if seen is not None:
                        values[attname] = seen
                        continue
            elif type(raw) is float and kind == "float" and -1e15 <= raw <= 1e15:
                values[attname] = raw  # NaN and the infinities fail the comparison
                continue
            try:
                value = _convert(kind, limit, raw)
            except ValueError as exc:
                issues.append(Issue(row.file, row.row, row.where(hsds_field), str(exc)))
                ok = False
                continue
            if kind in _PARSED:
                parsed[(kind, raw)] = value
            values[attname] = value
        if not ok:
            continue
        checked = entity_name in _OWN_RULES or "id" not in values
        if not checked:
            for attname in required:
                if values.get(attname) is None:
                    checked = True
                    break
        if checked:
            problems = _rules(ENTITIES[entity_name], values)
            for hsds_field, message in problems:
                issues.append(Issue(row.file, row.row, row.where(hsds_field), message))
            if problems:
                continue
        pk = values.get("id")
        if pk is None:
            continue
        result.append(Converted(entity_name, pk, values, row))
    return result


def _rules(entity: Entity, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Our own rules, beyond the schema's."""
    problems = []
    if "id" not in values:
        problems.append(("id", "Every object needs its id."))
    if entity.name == "service":
        low, high = values.get("minimum_age"), values.get("maximum_age")
        if low is not None and high is not None and low > high:
            problems.append(("minimum_age", "The minimum age cannot be above the maximum age."))
    if entity.name == "attribute":
        if values.get("link_id") is None:
            problems.append(("link_id", "An attribute must say what it is attached to."))
        if not values.get("link_entity"):
            problems.append(("link_entity", "An attribute must say what kind of object it is on."))
    for hsds_field in _required_refs(entity.name):
        if values.get(entity.attname(hsds_field)) is None:
            target = entity.refs[hsds_field].replace("_", " ")
            article = "an" if target[0] in "aeiou" else "a"
            kind = entity.name.replace("_", " ")
            problems.append((hsds_field, f"Every {kind} must belong to {article} {target}."))
    return problems


# --------------------------------------------------------------------------- references


def _existing(entity_name: str, ids: Iterable[Id]) -> set[Id]:
    """Which of these ids the directory already holds."""
    return bulk.present_hex(ENTITIES[entity_name].model._meta.db_table, "id", ids)


@functools.cache
def _refs(entity_name: str) -> tuple[tuple[str, str, str, bool], ...]:
    """The declared references of an entity: (HSDS field, attribute, target, required)."""
    entity = ENTITIES[entity_name]
    required = _required_refs(entity_name)
    return tuple(
        (hsds_field, entity.attname(hsds_field), target, hsds_field in required)
        for hsds_field, target in entity.refs.items()
    )


def resolve(
    items: list[Converted], lenient: bool, issues: list[Issue], removed: list[Issue]
) -> list[Converted]:
    """Check every declared reference; in lenient mode remove the dangling ones (and rows that
    cannot stand without them, repeatedly), reporting each."""
    merged: dict[tuple[str, Id], Converted] = {}
    for item in items:
        merged[(item.entity, item.id)] = item  # a later copy of the same object wins
    # The ids each reference may name, as one set per kind of object, built once: those of
    # this import, those already in the directory, and our own taxonomy (written with every
    # import).
    known: dict[str, set[Id]] = {name: set() for name in ENTITIES}
    for name, pk in merged:
        known[name].add(pk)
    wanted: dict[str, set[Id]] = defaultdict(set)
    reaching_out: list[tuple[str, Id]] = []  # objects naming one outside the import
    for key, item in merged.items():
        values = item.values
        outside = False
        for _hsds_field, attname, target, _required in _refs(item.entity):
            value = values.get(attname)
            if value is not None and value not in known[target]:
                wanted[target].add(value)
                outside = True
        if outside:
            reaching_out.append(key)
    for target, ids in wanted.items():
        known[target] |= _existing(target, ids)
    ours = {
        "taxonomy": {taxonomy.TAXONOMY_ID.hex},
        "taxonomy_term": {t.id.hex for t in taxonomy.TERMS},
    }
    for name, ids in ours.items():
        known[name] |= ids

    # Only an object naming one outside the import can dangle, until one is left out
    # (lenient): then every object is checked again, as some may have named that one.
    to_check = reaching_out
    while to_check:
        changed = False
        for key in to_check:
            if key not in merged:  # left out earlier in this pass
                continue
            item = merged[key]
            values = item.values
            for hsds_field, attname, target, required in _refs(item.entity):
                value = values.get(attname)
                if value is None or value in known[target]:
                    continue
                row = item.origin
                message = (
                    f"Refers to {target} {_show(value)}, which is neither in this import nor "
                    "in the directory."
                )
                if not lenient:
                    issues.append(Issue(row.file, row.row, row.where(hsds_field), message))
                    values[attname] = None  # report each reference once
                    continue
                if required:
                    removed.append(
                        Issue(
                            row.file,
                            row.row,
                            row.where(hsds_field),
                            f"{message} The {item.entity} {_show(item.id)} was left out.",
                        )
                    )
                    del merged[key]
                    if item.id not in ours.get(item.entity, ()):
                        known[item.entity].discard(item.id)  # what needs it is dangling now
                    changed = True
                    break
                removed.append(
                    Issue(row.file, row.row, row.where(hsds_field), f"{message} Emptied.")
                )
                values[attname] = None
        to_check = list(merged) if changed else []
    return list(merged.values())


# --------------------------------------------------------------------------- our attributes


def _parse_capacity(item: Converted, issues: list[Issue]) -> Converted | None:
    """A capacity attribute as the row of our ``Capacity`` table (entity "capacity")."""
    row = item.origin
    where = row.where("value")
    if item.values.get("link_entity") != "service":
        issues.append(
            Issue(row.file, row.row, row.where("link_entity"), "Capacity is on a service.")
        )
        return None
    try:
        value = json.loads(item.values.get("value") or "")
        available = value["available"]
        maximum = value.get("maximum")
        unit = value["unit"]
        updated = datetime.datetime.fromisoformat(value["updated"])
        description = value.get("description", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        issues.append(
            Issue(
                row.file,
                row.row,
                where,
                'Capacity must be JSON: {"available": n, "maximum": n or null, "unit": "...", '
                '"updated": "date-time"}.',
            )
        )
        return None
    whole = (int,)
    if (
        isinstance(available, bool)
        or not isinstance(available, whole)
        or available < 0
        or (maximum is not None and (not isinstance(maximum, whole) or isinstance(maximum, bool)))
        or (maximum is not None and not 0 <= available <= maximum <= 2**31 - 1)
        or not isinstance(unit, str)
        or not 0 < len(unit) <= 64
        or not isinstance(description, str)
        or _text_problem(unit + description)
    ):
        issues.append(
            Issue(
                row.file,
                row.row,
                where,
                "Capacity needs whole numbers (available at most the maximum) and a unit of at "
                "most 64 characters.",
            )
        )
        return None
    if timezone.is_naive(updated):
        updated = updated.replace(tzinfo=datetime.UTC)
    values = {
        "id": item.id,
        "service_id": item.values["link_id"],
        "available": available,
        "maximum": maximum,
        "unit": unit,
        "description": description,
        "updated": updated,
    }
    return Converted("capacity", item.id, values, item.origin)


def take_our_attributes(
    items: list[Converted], issues: list[Issue]
) -> tuple[list[Converted], list[Converted], dict[Id, str]]:
    """Our capacity and confidential-location attributes become our own columns: capacities
    as rows of our ``Capacity`` table (entity "capacity"), confidential flags by location."""
    kept: list[Converted] = []
    capacities: list[Converted] = []
    confidential: dict[Id, str] = {}
    for item in items:
        term = item.values.get("taxonomy_term_id") if item.entity == "attribute" else None
        if term == _CAPACITY_TERM:
            capacity = _parse_capacity(item, issues)
            if capacity is not None:
                capacities.append(capacity)
        elif term == _CONFIDENTIAL_TERM:
            confidential[item.values["link_id"]] = item.values.get("value") or ""
        else:
            kept.append(item)
    return kept, capacities, confidential


# --------------------------------------------------------------------------- writing


@functools.cache
def _plan(entity_name: str, vendor: str) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """Every column of the entity's table in order, as (attribute names, how each value is
    made). A maker is ``_STAMP`` (the time of the import), or (default, adapter): the value
    given, or the column's default when the import leaves it out (None if it may be empty),
    passed through the adapter the driver needs (None when the value goes as it is)."""
    model = _model(entity_name)
    ops = connection.ops
    attnames: list[str] = []
    makers: list[Any] = []
    for model_field in model._meta.concrete_fields:
        attnames.append(model_field.attname)
        if model_field.attname in ("created_at", "updated_at"):
            makers.append(_STAMP)
            continue
        target = getattr(model_field, "target_field", model_field)
        adapter: Callable[[Any], Any] | None = None  # ids go as they are (``Id``)
        if vendor == "postgresql" and isinstance(target, _TEMPORAL):
            adapter = _iso  # text for the text COPY (``_now``)
        elif isinstance(target, models.DateTimeField):
            adapter = ops.adapt_datetimefield_value
        elif isinstance(target, models.DateField):
            adapter = ops.adapt_datefield_value
        elif isinstance(target, models.TimeField):
            adapter = ops.adapt_timefield_value
        makers.append((_defaults(entity_name)[model_field.attname], adapter))
    return tuple(attnames), tuple(makers)


_STAMP = object()
_TEMPORAL = (models.DateTimeField, models.DateField, models.TimeField)


def _iso(value: Any) -> str:
    """A date, time or aware date and time as PostgreSQL reads it in a text ``COPY``."""
    return cast(str, value.isoformat())


def _model(entity_name: str) -> type[models.Model]:
    """The model of an HSDS entity, or of our capacity rows ("capacity")."""
    return Capacity if entity_name == "capacity" else ENTITIES[entity_name].model


@functools.cache
def _defaults(entity_name: str) -> dict[str, Any]:
    """What the upsert writes in a column the import leaves out."""
    return {
        f.attname: None if f.null else f.get_default()
        for f in _model(entity_name)._meta.concrete_fields
    }


def stored(entity_name: str, values: dict[str, Any], attname: str) -> Any:
    """The value a column of this object holds once written (what the upsert writes)."""
    return values.get(attname, _defaults(entity_name)[attname])


def _db_rows(entity_name: str, items: list[Converted], now: Any) -> list[tuple[Any, ...]]:
    """The rows to write, as tuples in column order: each object's values laid over the
    columns' defaults and read out by one ``itemgetter`` (loops in C: a Python step per cell
    was most of the importer's writing time), then the columns the driver needs adapted."""
    attnames, makers = _plan(entity_name, connection.vendor)
    defaults: dict[str, Any] = {}
    stamps: dict[str, Any] = {}
    adapted: list[tuple[int, Callable[[Any], Any]]] = []
    for position, (attname, maker) in enumerate(zip(attnames, makers, strict=True)):
        if maker is _STAMP:
            stamps[attname] = now
            continue
        defaults[attname], adapter = maker
        if adapter is not None:
            adapted.append((position, adapter))
    pick = operator.itemgetter(*attnames)
    rows = [pick({**defaults, **item.values, **stamps}) for item in items]
    if not adapted or not rows:
        return rows
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for position, adapter in adapted:
        # Dates and times repeat (opening hours, days): each distinct value adapted once.
        memo: dict[Any, Any] = {None: None}
        column = []
        for v in columns[position]:
            a = memo.get(v, memo)
            if a is memo:
                a = memo[v] = adapter(v)
            column.append(a)
        columns[position] = column
    return list(zip(*columns, strict=True))


def _now() -> Any:
    """The time of the import, as the driver takes it. On PostgreSQL rows go by text ``COPY``,
    and a date or time goes as its ISO text (``_iso``): psycopg's own conversion of a
    ``datetime`` cost about 1.3 microseconds, two per row (``created_at``, ``updated_at``),
    and was most of the client's time in ``COPY``."""
    now: Any = timezone.now()
    if connection.vendor == "postgresql":
        return _iso(now)
    return connection.ops.adapt_datetimefield_value(now)


def _columns(entity_name: str, updated: Iterable[str]) -> tuple[str, list[str], list[str]]:
    """The table, its columns in ``_plan`` order, and those of ``updated`` (attribute names)
    that an update by id overwrites (with ``updated_at``; never the primary key)."""
    model = _model(entity_name)
    attnames, _makers = _plan(entity_name, connection.vendor)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    wanted = {*updated, "updated_at"}
    columns = [by_attname[a].column for a in attnames]
    update = [
        by_attname[a].column for a in attnames if a in wanted and not by_attname[a].primary_key
    ]
    return model._meta.db_table, columns, update


_BY_ID = operator.attrgetter("id")


def _upsert(
    entity: Entity,
    items: list[Converted],
    existing: set[Id],
    progress: Progress | None,
) -> None:
    """Insert the rows new to the directory and update the others by id (``bulk``: the ORM's
    per-object work would not keep up with hundreds of thousands of rows). Only HSDS columns
    are updated: our own (the agency link, the confidential flag) are never overwritten by an
    import. ``existing`` holds the ids already here, read in this transaction.

    New rows go in the order of their ids (the tuples are sorted, not the objects, whose
    dictionaries would then be read all over memory): each primary-key entry of a random
    UUID lands next to the one before, on an index page just touched, instead of anywhere."""
    now = _now()
    table, columns, update = _columns(entity.name, (entity.attname(f) for f in entity.fields))
    by_id = operator.itemgetter(_plan(entity.name, connection.vendor)[0].index("id"))
    done = 0
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        new = [item for item in chunk if item.id not in existing] if existing else chunk
        if new:
            rows = _db_rows(entity.name, new, now)
            rows.sort(key=by_id)
            bulk.insert(table, columns, rows)
        if len(new) < len(chunk):
            changed = [item for item in chunk if item.id in existing]
            bulk.upsert(
                table, columns, _db_rows(entity.name, changed, now), key="id", update=update
            )
        done += len(chunk)
        if progress:
            progress(entity.name, done, len(items))


def _write_capacities(capacities: list[Converted], report: ImportReport) -> None:
    """One capacity per service: a capacity of the import replaces the service's row (a new
    id for a service replaces the old one), or is inserted."""
    table, columns, update = _columns("capacity", CAPACITY_FIELDS)
    quote = connection.ops.quote_name
    ours = {c.id for c in capacities}
    services = [c.values["service_id"] for c in capacities]
    earlier: set[Id] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(services), search_rows.CHUNK):
            chunk = services[start : start + search_rows.CHUNK]
            cursor.execute(
                f"SELECT id FROM {quote(table)} WHERE service_id IN "  # noqa: S608
                f"({', '.join(['%s'] * len(chunk))})",
                _ids_param(chunk),
            )
            earlier.update(_hex_of(value) for (value,) in cursor.fetchall())
        stale = sorted(earlier - ours)
        for start in range(0, len(stale), search_rows.CHUNK):
            chunk = stale[start : start + search_rows.CHUNK]
            cursor.execute(
                f"DELETE FROM {quote(table)} WHERE id IN "  # noqa: S608
                f"({', '.join(['%s'] * len(chunk))})",
                _ids_param(chunk),
            )
    rows = _db_rows("capacity", sorted(capacities, key=_BY_ID), _now())
    bulk.upsert(table, columns, rows, key="id", update=update)
    report.updated["capacity"] = len(earlier & ours)
    report.created["capacity"] = len(capacities) - report.updated["capacity"]


CAPACITY_FIELDS = ("service_id", "available", "maximum", "unit", "description", "updated")


def _ids_param(ids: Sequence[Id]) -> list[Any]:
    """Ids as query parameters (PostgreSQL's driver needs ``uuid.UUID`` for a uuid column)."""
    if connection.vendor == "postgresql":
        return [uuid.UUID(hex=pk) for pk in ids]
    return list(ids)


def _hex_of(value: Any) -> Id:
    """An id read by a plain query: ``uuid.UUID`` on PostgreSQL, hex text on SQLite."""
    return value.hex if isinstance(value, uuid.UUID) else str(value)


def write(
    items: list[Converted],
    capacities: list[Converted],
    confidential: dict[Id, str],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    by_entity: dict[str, dict[Id, Converted]] = defaultdict(dict)
    for item in items:
        by_entity[item.entity][item.id] = item
    # What was here before: which rows are updates, which names change (the services under
    # a renamed organisation or term need new search text).
    before = {name: _existing(name, objects) for name, objects in by_entity.items()}
    renamed = _renamed(by_entity.get("organization", {}), "organization")
    renamed_terms = _renamed(by_entity.get("taxonomy_term", {}), "taxonomy_term")
    new_services = set(by_entity.get("service", {})) - before.get("service", set())
    # As ``index.services_with_attributes``, with ids as the importer keeps them.
    new_services -= bulk.present_hex(
        Attribute._meta.db_table, "link_id", new_services, where="link_entity = 'service'"
    )
    previous = _previous(before, capacities)
    for name in WRITE_ORDER:
        rows = list(by_entity.get(name, {}).values())
        if not rows:
            continue
        _upsert(ENTITIES[name], rows, before[name], progress)
        report.updated[name] = len(before[name])
        report.created[name] = len(rows) - report.updated[name]
    if confidential:
        _mark_confidential(confidential)
    if capacities:
        _write_capacities(capacities, report)
    touched = _touched_services(
        by_entity, capacities, confidential, renamed, renamed_terms, previous
    )
    if progress:
        progress("search index", 0, len(touched))
    # A service new to the directory is made of this import's objects only (and the
    # organisation, terms and places they point at): its row is built from them. One that
    # was here already may keep related rows this import does not hold, so it is read back.
    facts = _new_service_facts(
        [pk for pk in touched if pk in new_services],
        by_entity,
        capacities,
        confidential,
        before.get("location", set()),
    )
    # Written in place order: on PostgreSQL the rows of one import's neighbours then lie
    # together in the table until the next ``optimize_directory`` (index.place_number).
    new_rows = sorted(
        (search_rows.build_row(f) for f in facts),
        key=lambda row: search_rows.place_number(row.points),
    )
    for start in range(0, len(new_rows), search_rows.CHUNK):
        search_rows.save_rows(new_rows[start : start + search_rows.CHUNK], new=True)
    search_rows.rebuild(uuid.UUID(hex=pk) for pk in touched if pk not in new_services)
    if progress:
        progress("search index", len(touched), len(touched))


def _mark_confidential(confidential: dict[Id, str]) -> None:
    """Flag these locations confidential, with their "call to arrange" notes (one prepared
    statement for all of them)."""
    table = connection.ops.quote_name(Location._meta.db_table)
    ids = _ids_param(list(confidential))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET is_confidential = %s, arrangement_note = %s WHERE id = %s",  # noqa: S608
            [(True, note, pk) for pk, note in zip(ids, confidential.values(), strict=True)],
        )


class _Uuids(dict[Id, uuid.UUID]):
    """``uuid.UUID`` of each id, made once (the search facts are keyed by them)."""

    def __missing__(self, key: Id) -> uuid.UUID:
        value = self[key] = uuid.UUID(hex=key)
        return value


def _new_service_facts(
    service_ids: list[Id],
    by_entity: dict[str, dict[Id, Converted]],
    capacities: list[Converted],
    confidential: dict[Id, str],
    locations_before: set[Id],
) -> list[search_rows.Facts]:
    """The search facts of services new to the directory, from the objects of the import; what
    they point at outside it (an organisation, a term, a place already here) is read."""
    services = by_entity["service"]
    organizations = by_entity.get("organization", {})
    terms = by_entity.get("taxonomy_term", {})
    locations = by_entity.get("location", {})
    as_uuid = _Uuids()
    facts: dict[Id, search_rows.Facts] = {}
    org_of: dict[Id, Id] = {}
    for pk in service_ids:
        values = services[pk].values
        org = values["organization_id"]
        facts[pk] = search_rows.Facts(
            service_id=as_uuid[pk],
            name=stored("service", values, "name"),
            alternate_name=stored("service", values, "alternate_name"),
            description=stored("service", values, "description"),
            status=stored("service", values, "status"),
            minimum_age=values.get("minimum_age"),
            maximum_age=values.get("maximum_age"),
            last_modified=values.get("last_modified"),
            organization_id=None if org is None else as_uuid[org],
        )
        if org is not None:
            org_of[pk] = org
    org_ids = set(org_of.values())
    org_names = {
        pk: stored("organization", organizations[pk].values, "name")
        for pk in org_ids & organizations.keys()
    }
    org_names.update(_read(Organization, org_ids - organizations.keys(), "pk", "name"))
    for pk, org in org_of.items():
        facts[pk].organization_name = org_names.get(org, "")
    attached = [
        (a.values["link_id"], a.values["taxonomy_term_id"])
        for a in by_entity.get("attribute", {}).values()
        if a.values["link_id"] in facts and a.values.get("link_entity") == "service"
    ]
    term_ids = {term for _link, term in attached}
    term_names = {
        t: stored("taxonomy_term", terms[t].values, "name") for t in term_ids & terms.keys()
    }
    term_names.update(_read(TaxonomyTerm, term_ids - terms.keys(), "pk", "name"))
    for link_id, term in attached:
        facts[link_id].add_term(as_uuid[term], term_names.get(term, ""))
    for language in by_entity.get("language", {}).values():
        if language.values.get("service_id") in facts:
            facts[language.values["service_id"]].add_language(
                stored("language", language.values, "code")
            )
    for cost in by_entity.get("cost_option", {}).values():
        if cost.values.get("service_id") in facts:
            facts[cost.values["service_id"]].add_cost(cost.values.get("amount"))
    for capacity in capacities:
        if capacity.values["service_id"] in facts:
            facts[capacity.values["service_id"]].capacity_available = capacity.values["available"]
    places = sorted(
        (sal.id, sal.values["service_id"], sal.values["location_id"])
        for sal in by_entity.get("service_at_location", {}).values()
        if sal.values["service_id"] in facts
    )
    # Where each place is: a location new in this import is as the import has it; one
    # already here may have addresses or a confidential flag from before, so it is read.
    where: dict[Id, tuple[bool, float | None, float | None, set[str]]] = {}
    new_locations = {loc for _pk, _s, loc in places if loc in locations} - locations_before
    for location_id in new_locations:
        values = locations[location_id].values
        where[location_id] = (
            location_id in confidential,
            values.get("latitude"),
            values.get("longitude"),
            set(),
        )
    for address in by_entity.get("address", {}).values():
        location_id = address.values.get("location_id")
        if location_id is not None and location_id in new_locations:
            where[location_id][3].add(stored("address", address.values, "postal_code"))
    read = {loc for _pk, _s, loc in places} - new_locations
    if read:
        postcodes = {
            location.hex: codes
            for location, codes in search_rows.postcodes_of(as_uuid[pk] for pk in read).items()
        }
        for location_id, secret, lat, lon in _read(
            Location, read, "pk", "is_confidential", "latitude", "longitude"
        ):
            where[location_id] = (secret, lat, lon, postcodes.get(location_id, set()))
    for _pk, service_id, location_id in places:
        secret, lat, lon, codes = where[location_id]
        facts[service_id].add_location(
            confidential=secret, latitude=lat, longitude=lon, postcodes=codes
        )
    return list(facts.values())


def _read(model: type[models.Model], ids: Iterable[Id], *columns: str) -> list[tuple[Any, ...]]:
    """Columns of these objects, in chunks of 2,000 (a database limits query parameters); ids
    among them as ``Id``."""
    wanted = list(ids)
    result: list[tuple[Any, ...]] = []
    for start in range(0, len(wanted), search_rows.CHUNK):
        chunk = wanted[start : start + search_rows.CHUNK]
        result.extend(
            tuple(v.hex if isinstance(v, uuid.UUID) else v for v in row)
            for row in model._default_manager.filter(pk__in=chunk).order_by().values_list(*columns)
        )
    return result


def _hexes(values: Iterable[uuid.UUID]) -> list[Id]:
    return [value.hex for value in values]


def _uuids(ids: Iterable[Id]) -> list[uuid.UUID]:
    return [uuid.UUID(hex=pk) for pk in ids]


def _touched_services(
    by_entity: dict[str, dict[Id, Converted]],
    capacities: list[Converted],
    confidential: dict[Id, str],
    renamed: list[Id],
    renamed_terms: list[Id],
    previous: Previous,
) -> list[Id]:
    """Every service whose search row this import may have changed: those it holds, those it
    gave attributes, languages, cost options, capacity or places, those they were taken from,
    those at a location it changed, those of an organisation it renamed, those with a term it
    renamed."""
    touched: dict[Id, None] = dict.fromkeys(by_entity.get("service", {}))
    for attribute in by_entity.get("attribute", {}).values():
        if attribute.values.get("link_entity") == "service":
            touched[attribute.values["link_id"]] = None
    for name in _SERVICE_PARTS:
        for item in by_entity.get(name, {}).values():
            service_id = item.values.get("service_id")
            if service_id is not None:
                touched[service_id] = None
    touched.update(dict.fromkeys(c.values["service_id"] for c in capacities))
    touched.update(dict.fromkeys(previous.services))
    imported_locations = by_entity.get("location", {})
    changed = set(imported_locations) | set(confidential) | previous.locations
    changed |= {
        a.values["location_id"]
        for a in by_entity.get("address", {}).values()
        if a.values.get("location_id") is not None
    }
    # The services at a location new to the directory are all in this import (their places
    # are), so only locations already here are looked up.
    here = previous.locations_here | _existing("location", changed - imported_locations.keys())
    unknown = [pk for pk in changed if pk in here]
    for start in range(0, len(unknown), search_rows.CHUNK):
        touched.update(
            dict.fromkeys(
                _hexes(
                    search_rows.services_at_locations(
                        _uuids(unknown[start : start + search_rows.CHUNK])
                    )
                )
            )
        )
    if renamed:
        touched.update(
            dict.fromkeys(_hexes(search_rows.services_of_organizations(_uuids(renamed))))
        )
    if renamed_terms:
        touched.update(
            dict.fromkeys(_hexes(search_rows.services_with_terms(_uuids(renamed_terms))))
        )
    return list(touched)


@dataclass
class Previous:
    """What rows of the import already in the directory pointed at before it wrote: the
    services of moved languages, cost options, places, attributes and capacities, the
    locations of moved addresses, and which of the import's locations were here."""

    services: set[Id]
    locations: set[Id]
    locations_here: set[Id]


_SERVICE_PARTS = ("language", "cost_option", "service_at_location")


def _previous(before: dict[str, set[Id]], capacities: list[Converted]) -> Previous:
    """Read before the import writes (only rows already here can have moved)."""
    services: set[Id | None] = set()
    for name in _SERVICE_PARTS:  # a language may be a location's or a phone's: no service
        services.update(
            s for (s,) in _read(ENTITIES[name].model, before.get(name, ()), "service_id")
        )
    services.update(
        link
        for kind, link in _read(Attribute, before.get("attribute", ()), "link_entity", "link_id")
        if kind == "service"
    )
    if capacities:
        services.update(s for (s,) in _read(Capacity, [c.id for c in capacities], "service_id"))
    locations = {loc for (loc,) in _read(Address, before.get("address", ()), "location_id")}
    return Previous(
        {s for s in services if s is not None}, locations, before.get("location", set())
    )


def _renamed(objects: dict[Id, Converted], entity_name: str) -> list[Id]:
    """Organisations or terms of the import already here under another name (their
    services' search text must follow). Read before the import writes."""
    model = ENTITIES[entity_name].model
    renamed = []
    for pk, name in _read(model, objects, "pk", "name"):
        if stored(entity_name, objects[pk].values, "name") != name:
            renamed.append(pk)
    return renamed


@contextlib.contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """An import allocates millions of small objects (dictionaries, ids, rows) and keeps them
    to the end; allocations set off the cycle collector, which walked them all again and again
    (a third of an import's time). They hold no cycles worth collecting, so the collector waits
    until the import is over (it is process-wide: other threads' cycles wait too)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run(
    *,
    json_sources: Iterable[tuple[Source, str | None]] = (),
    package: dict[str, Source] | None = None,
    lenient: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    before_commit: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import JSON files (each with its kind, or None to guess from its name) and/or one
    datapackage. Writes only when nothing is wrong (and not ``dry_run``)."""
    with _cycle_collector_paused():
        return _run(json_sources, package, lenient, dry_run, progress, before_commit)


def _run(
    json_sources: Iterable[tuple[Source, str | None]],
    package: dict[str, Source] | None,
    lenient: bool,
    dry_run: bool,
    progress: Progress | None,
    before_commit: Callable[[ImportReport], None] | None,
) -> ImportReport:
    report = ImportReport()
    issues: list[Issue] = []
    rows: list[Row] = []
    try:
        for source, kind in json_sources:
            rows += read_json(source, kind, issues)
        if package is not None:
            package_rows, report.not_kept = read_datapackage(package, issues)
            rows += package_rows
    except schemas.SchemasMissing as exc:
        report.errors.append(Issue("", None, "", str(exc)))
        return report
    if progress:
        progress("read", len(rows), len(rows))
    items = convert(rows, issues)
    items, capacities, confidential = take_our_attributes(items, issues)
    items = resolve(items, lenient, issues, report.removed_references)
    known_services = {i.id for i in items if i.entity == "service"}
    missing = {c.values["service_id"] for c in capacities} - known_services
    if missing:
        known_services |= _existing("service", missing)
        kept_capacities = []
        for capacity in capacities:
            service_id = capacity.values["service_id"]
            if service_id in known_services:
                kept_capacities.append(capacity)
                continue
            origin = capacity.origin
            problem = Issue(
                origin.file,
                origin.row,
                origin.where("link_id"),
                f"Capacity {_show(capacity.id)} is for service {_show(service_id)}, which is "
                "neither in this import nor in the directory.",
            )
            (report.removed_references if lenient else issues).append(problem)
        capacities = kept_capacities
    report.errors = issues
    if issues or dry_run:
        return report
    try:
        with bulk.sqlite_write_cache(), transaction.atomic():
            taxonomy.ensure_taxonomy()
            write(items, capacities, confidential, report, progress)
            if before_commit:
                before_commit(report)
    except DatabaseError as exc:
        report.created, report.updated = {}, {}
        report.errors.append(
            Issue("", None, "", f"The database refused the import, so nothing was saved: {exc}")
        )
        return report
    report.written = True
    return report
