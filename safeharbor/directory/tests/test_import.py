"""Importing HSDS 3.0: the official examples, all-or-nothing, re-import by id, our attributes."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from safeharbor.audit.models import AuditEvent
from safeharbor.directory import importer, taxonomy
from safeharbor.directory.models import (
    Address,
    Attribute,
    Capacity,
    Contact,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceSearch,
    TaxonomyTerm,
)
from safeharbor.directory.services import directory_import

from .factories import EXAMPLES, example_json, example_package, load, service_object

pytestmark = pytest.mark.django_db

DANGLING = [
    ("taxonomy_terms.csv", 2, "taxonomy_id", "07ff6aee-a219-438c-b694-d2fcb6c5373b"),
    ("locations.csv", 2, "organization_id", "985e4a42-bd9f-4edc-911d-0243a4640aca"),
    ("contacts.csv", 2, "organization_id", "ae67a707-5893-4225-b0b1-320ab9cb596b"),
    ("contacts.csv", 2, "service_at_location_id", "93eaf18d-1cd2-4ec7-bffb-3c9172ee5070"),
]


def _places(issues):
    return sorted((i.file, i.row, i.field) for i in issues)


def test_official_csv_example_is_refused_naming_each_dangling_reference():
    report = directory_import(actor=None, package=example_package())
    assert _places(report.errors) == sorted((f, r, c) for f, r, c, _ in DANGLING)
    for file, row, column, target in DANGLING:
        assert any(
            e.file == file and e.row == row and e.field == column and target in e.message
            for e in report.errors
        )
    assert not report.written
    assert not Service.objects.exists()
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.filter(object_type="directory.import").exists()


def test_lenient_import_of_the_official_csv_example_empties_and_reports_each():
    report = directory_import(actor=None, package=example_package(), lenient=True)
    assert report.ok
    assert report.written
    assert _places(report.removed_references) == sorted((f, r, c) for f, r, c, _ in DANGLING)
    assert all("Emptied" in i.message for i in report.removed_references)
    assert report.created["service"] == 1
    assert report.not_kept == {"metadata": 1, "meta_table_description": 1}
    location = Location.objects.get(pk="3a19ff88-4620-4d17-9830-ac1d859eb5d5")
    assert location.organization_id is None
    contact = Contact.objects.get()
    assert contact.organization_id is None
    assert contact.service_at_location_id is None
    assert TaxonomyTerm.objects.get(pk="3f7b145d-84af-42d7-8fae-eaca714b02b2").vocabulary is None
    event = AuditEvent.objects.get(object_type="directory.import")
    assert event.actor_label == ""
    assert "service: 1 new" in event.reason


def test_lenient_leaves_out_rows_that_cannot_stand_without_their_reference():
    package = example_package()
    services = package["services.csv"].content.decode()
    package["services.csv"] = importer.Source(
        "services.csv",
        services.replace("d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", str(uuid.uuid4()), 1).encode(),
    )
    report = directory_import(actor=None, package=package, lenient=True)
    assert report.ok
    left_out = [i for i in report.removed_references if "was left out" in i.message]
    # the service, and in turn what needed it (its service-at-location, cost option...)
    assert any(i.file == "services.csv" and i.field == "organization_id" for i in left_out)
    assert any(i.file == "service_at_location.csv" for i in left_out)
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "service_full.json",
        "service_list.json",
        "organization_full.json",
        "organization_list.json",
        "service_at_location_full.json",
        "service_at_location_list.json",
        "taxonomy.json",
        "taxonomy_list.json",
        "taxonomy_term.json",
        "taxonomy_term_list.json",
    ],
)
def test_every_official_json_example_imports(name):
    report = directory_import(actor=None, json_sources=[(example_json(name), None)])
    assert report.ok, [str(e) for e in report.errors]
    assert report.written


def test_full_service_example_keeps_its_graph():
    directory_import(actor=None, json_sources=[(example_json("service_full.json"), None)])
    service = Service.objects.get(pk="ac148810-d857-441c-9679-408f346de14b")
    assert service.organization.name == "Example Organization Inc."
    assert service.program.organization_id == service.organization_id  # nested: inherited
    assert service.minimum_age == 12
    assert service.last_modified.year == 2023
    sal = service.service_at_locations.get()
    assert sal.location.addresses.get().city == "MyCity"
    attribute = Attribute.objects.get(pk="ae58cc39-8b70-4ab1-8aea-786882e5ac8e")
    assert attribute.link_id == service.pk
    assert attribute.link_entity == "service"


def test_reimport_updates_by_id():
    original = service_object(name="Night Shelter")
    load(original)
    changed = json.loads(json.dumps(original))
    changed["name"] = "Night Shelter for Youth"
    changed["languages"][0]["code"] = "es"
    report = load(changed)
    assert report.updated["service"] == 1
    assert report.created.get("service", 0) == 0
    assert report.updated["language"] == 1
    service = Service.objects.get()
    assert service.name == "Night Shelter for Youth"
    assert service.languages.get().code == "es"
    assert "youth" in service.search_text


def test_one_bad_object_imports_nothing_and_every_error_names_its_place():
    good = service_object(name="Good")
    bad = service_object(name="Bad")
    bad["status"] = "open"
    bad["service_at_locations"][0]["location"]["latitude"] = "north"
    bad["minimum_age"], bad["maximum_age"] = 18, 12
    source = importer.Source("mixed.json", json.dumps([good, bad]).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")])
    assert not report.written
    assert not Service.objects.exists()
    places = {(e.file, e.row, e.field) for e in report.errors}
    assert ("mixed.json", 2, "status") in places
    assert ("mixed.json", 2, "service_at_locations[0].location.latitude") in places


def test_our_rules_beyond_the_schema():
    bad = service_object()
    bad["minimum_age"], bad["maximum_age"] = 18, 12
    bad["phones"][0]["number"] = "555\x00"
    bad["service_at_locations"][0]["location"]["addresses"][0]["country"] = "United States"
    source = importer.Source("rules.json", json.dumps(bad).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")])
    fields = {e.field: e.message for e in report.errors}
    assert "minimum age cannot be above" in fields["minimum_age"]
    assert "NUL" in fields["phones[0].number"]
    assert "At most 8" in fields["service_at_locations[0].location.addresses[0].country"]
    assert not Service.objects.exists()


def test_malformed_files_become_errors():
    cases = {
        "broken.json": b'{"id": ',
        "latin1.json": "caf\xe9".encode("latin-1"),
        "number.json": b"42",
    }
    for name, content in cases.items():
        report = directory_import(actor=None, json_sources=[(importer.Source(name, content), None)])
        assert report.errors
        assert report.errors[0].file == name
    package = example_package()
    package["services.csv"] = importer.Source("services.csv", b"id,name\n\x00,\n")
    report = directory_import(actor=None, package=package)
    assert any(e.file == "services.csv" for e in report.errors)


def test_csv_number_and_required_errors_name_row_and_column():
    package = example_package()
    text = package["services.csv"].content.decode()
    header, row = text.strip().splitlines()
    cells = row.split(",")
    broken = row.replace(",12,100,", ",twelve,100,")
    package["services.csv"] = importer.Source("services.csv", f"{header}\n{broken}\n".encode())
    report = directory_import(actor=None, package=package, lenient=True)
    assert ("services.csv", 2, "minimum_age") in {(e.file, e.row, e.field) for e in report.errors}
    assert cells  # the example row was split as expected
    package["organizations.csv"] = importer.Source(
        "organizations.csv", b"id,name,description\nd9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610,,x\n"
    )
    report = directory_import(actor=None, package=package, lenient=True)
    assert any(e.file == "organizations.csv" and e.row == 2 for e in report.errors)


def test_capacity_and_confidential_attributes_become_our_columns():
    service = service_object(confidential=True, capacity=(2, 8))
    load(service)
    capacity = Capacity.objects.get()
    assert (capacity.available, capacity.maximum, capacity.unit) == (2, 8, "beds")
    assert capacity.updated == datetime.datetime(2026, 1, 10, 10, tzinfo=datetime.UTC)
    location = Location.objects.get()
    assert location.is_confidential
    assert location.arrangement_note == "Call to arrange."
    ours = {taxonomy.term_id(taxonomy.CAPACITY), taxonomy.term_id(taxonomy.CONFIDENTIAL_LOCATION)}
    assert not Attribute.objects.filter(taxonomy_term_id__in=ours).exists()


def test_a_later_import_never_clears_the_confidential_flag():
    service = service_object(confidential=True)
    load(service)
    again = json.loads(json.dumps(service))
    del again["service_at_locations"][0]["location"]["attributes"]
    load(again)
    assert Location.objects.get().is_confidential
    assert Address.objects.get().address_1 == "100 Market Street"  # kept, never shown


def test_bad_capacity_value_is_an_error_at_its_place():
    service = service_object()
    service["attributes"].append(
        {
            "id": str(uuid.uuid4()),
            "link_id": service["id"],
            "link_entity": "service",
            "taxonomy_term_id": str(taxonomy.term_id(taxonomy.CAPACITY)),
            "value": "lots",
        }
    )
    source = importer.Source("cap.json", json.dumps(service).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")])
    assert [(e.row, e.field) for e in report.errors] == [(1, "attributes[0].value")]


def test_dry_run_writes_nothing():
    source = importer.Source("s.json", json.dumps(service_object()).encode())
    report = directory_import(actor=None, json_sources=[(source, None)], dry_run=True)
    assert report.ok
    assert not report.written
    assert not Service.objects.exists()


def test_command_imports_with_progress_and_refuses_with_every_error(tmp_path, capsys):
    call_command("import_hsds", str(EXAMPLES / "json" / "service_full.json"), "--no-progress")
    assert Service.objects.count() == 1
    with pytest.raises(CommandError, match="4 error"):
        call_command("import_hsds", str(EXAMPLES / "csv"), "--no-progress")
    errors = capsys.readouterr().err
    assert errors.count("error: ") == 4
    assert "locations.csv, row 2, organization_id" in errors
    call_command("import_hsds", str(EXAMPLES / "csv"), "--lenient")
    out = capsys.readouterr().out
    assert out.count("removed: ") == 4
    assert "not kept: 1 metadata" in out


def test_a_capacity_for_an_unknown_service_names_its_file_row_and_field():
    missing = str(uuid.uuid4())
    value = json.dumps(
        {"available": 1, "maximum": 4, "unit": "beds", "updated": "2026-01-10T10:00:00+00:00"}
    )
    rows = [
        "id,link_id,taxonomy_term_id,link_type,link_entity,value",
        f"{uuid.uuid4()},{missing},{taxonomy.term_id(taxonomy.CAPACITY)},,service,"
        + '"'
        + value.replace('"', '""')
        + '"',
    ]
    package = {"attributes.csv": importer.Source("attributes.csv", "\n".join(rows).encode())}
    report = directory_import(actor=None, package=package)
    assert not report.written
    [error] = report.errors
    assert (error.file, error.row, error.field) == ("attributes.csv", 2, "link_id")
    assert missing in error.message
    assert str(error).startswith("attributes.csv, row 2, link_id: Capacity ")
    assert not Capacity.objects.exists()


def _generated(count: int, seed: int = 5) -> list[dict]:
    from safeharbor.directory.demo import DirectoryGenerator

    generator = DirectoryGenerator(seed)
    return [generator.service() for _ in range(count)]


def _directory_state() -> tuple:
    return (
        sorted(Service.objects.values_list("id", "name")),
        sorted(ServiceSearch.objects.values_list("service_id", "document")),
        Attribute.objects.count(),
        Location.objects.count(),
    )


def test_a_bad_service_at_the_end_of_a_big_batch_imports_nothing():
    # About 8,700 objects; the fault in the very last service.
    services = _generated(600)
    services[-1]["languages"].append({"id": "not-a-uuid", "code": "es", "name": "Spanish"})
    source = importer.Source("big.json", json.dumps({"contents": services}).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")])
    assert not report.written
    assert [(e.file, e.row) for e in report.errors] == [("big.json", 600)]
    assert report.errors[0].field.startswith("languages[")
    assert not Service.objects.exists()
    assert not Attribute.objects.exists()
    assert not ServiceSearch.objects.exists()


def test_a_row_the_database_already_holds_after_all_refuses_the_whole_import(monkeypatch):
    """Rows new to the directory are inserted without a conflict clause (COPY on PostgreSQL):
    one that another writer added meanwhile must make the database refuse the import, and
    leave the directory as it was."""
    first = _generated(30, seed=8)
    load(*first)
    before = _directory_state()
    # As if another writer had added the first directory's services after we looked; small
    # batches, so that several are written before the clash (the clashing rows come last).
    monkeypatch.setattr(importer, "_existing", lambda entity_name, ids: set())
    monkeypatch.setattr(importer, "BATCH", 7)
    source = importer.Source(
        "again.json", json.dumps({"contents": _generated(30, seed=9) + first[-1:]}).encode()
    )
    report = directory_import(actor=None, json_sources=[(source, "service")])
    assert not report.written
    assert "The database refused the import, so nothing was saved" in report.errors[0].message
    assert report.created == {}
    assert _directory_state() == before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_the_import_gives_sqlite_its_page_cache_back():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        load(service_object())
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone() == (before,)


def _spelt(value, spell):
    """Every UUID text in a JSON value written another way (``spell``), the rest as it is."""
    if isinstance(value, dict):
        return {key: _spelt(item, spell) for key, item in value.items()}
    if isinstance(value, list):
        return [_spelt(item, spell) for item in value]
    if isinstance(value, str):
        try:
            return spell(uuid.UUID(value))
        except ValueError:
            return value
    return value


@pytest.mark.parametrize(
    ("spell", "accepted"),
    [
        (lambda u: str(u).upper(), True),
        (lambda u: u.hex, False),
        (lambda u: "{" + str(u) + "}", False),
    ],
    ids=["upper case", "no hyphens", "braces"],
)
def test_an_id_spelt_another_way_names_the_same_object_or_is_refused(spell, accepted):
    """The importer keeps ids as 32 hex digits: an id in upper case names the object already
    here, and its references still resolve. Spellings the schema's "uuid" format refuses are
    errors, and nothing changes."""
    original = service_object(name="Night Shelter", capacity=(1, 4))
    load(original)
    before = _directory_state()
    changed = _spelt(original, spell)
    changed["name"] = "Night Shelter for Youth"
    source = importer.Source("again.json", json.dumps(changed).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")])
    assert report.ok == accepted
    if not accepted:
        assert {e.field for e in report.errors} >= {"id", "service_at_locations[0].location.id"}
        assert _directory_state() == before
        return
    assert not any(report.created.values())
    assert report.updated["service"] == 1
    assert Service.objects.get().name == "Night Shelter for Youth"
    assert Capacity.objects.get().service_id == uuid.UUID(original["id"])
    assert Location.objects.count() == 1


def test_a_capacity_is_updated_by_id_and_a_new_id_replaces_the_service_row():
    service = service_object(capacity=(2, 8))
    load(service)
    [attribute] = [
        a
        for a in service["attributes"]
        if a["taxonomy_term_id"] == str(taxonomy.term_id(taxonomy.CAPACITY))
    ]
    first_id = attribute["id"]
    value = json.loads(attribute["value"])

    value["available"] = 3
    attribute["value"] = json.dumps(value)
    report = load(service)
    assert (report.created["capacity"], report.updated["capacity"]) == (0, 1)
    assert list(Capacity.objects.values_list("pk", "available")) == [(uuid.UUID(first_id), 3)]

    attribute["id"] = str(uuid.uuid4())
    value["available"] = 5
    attribute["value"] = json.dumps(value)
    report = load(service)
    assert (report.created["capacity"], report.updated["capacity"]) == (1, 0)
    assert list(Capacity.objects.values_list("pk", "available")) == [
        (uuid.UUID(attribute["id"]), 5)
    ]
    assert ServiceSearch.objects.get().capacity_available


def test_dates_and_times_keep_their_values_and_rows_get_the_import_time():
    # On PostgreSQL they go into COPY as ISO text, each distinct value converted once per
    # table: values that repeat, and the same instant written with two offsets, come back
    # exactly, on both databases.
    first = service_object(
        hours=("MO,TU", "09:30", "17:45:30"),
        capacity=(1, 4),
        last_modified="2026-01-02T03:04:05.123456+02:00",
    )
    second = service_object(
        hours=("MO,TU", "09:30", "17:45:30"), last_modified="2026-01-02T01:04:05.123456+00:00"
    )
    third = service_object(hours=("SA", "00:00", "23:59"), last_modified="2025-12-31T23:59:59Z")
    for service in (first, second):
        service["schedules"][0]["valid_from"] = "2026-03-01"
    started = datetime.datetime.now(datetime.UTC)
    load(first, second, third)
    finished = datetime.datetime.now(datetime.UTC)

    instant = datetime.datetime(2026, 1, 2, 1, 4, 5, 123456, tzinfo=datetime.UTC)
    for service, modified in (
        (first, instant),
        (second, instant),
        (third, datetime.datetime(2025, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)),
    ):
        stored = Service.objects.get(pk=service["id"])
        assert stored.last_modified == modified
        assert started <= stored.created_at <= finished
        assert stored.updated_at == stored.created_at
    hours = {
        str(s.service_id): (s.opens_at, s.closes_at, s.valid_from) for s in Schedule.objects.all()
    }
    assert hours == {
        first["id"]: (datetime.time(9, 30), datetime.time(17, 45, 30), datetime.date(2026, 3, 1)),
        second["id"]: (datetime.time(9, 30), datetime.time(17, 45, 30), datetime.date(2026, 3, 1)),
        third["id"]: (datetime.time(0, 0), datetime.time(23, 59), None),
    }
    capacity = Capacity.objects.get()
    assert capacity.updated == datetime.datetime(2026, 1, 10, 10, 0, tzinfo=datetime.UTC)


def test_command_suggests_optimizing_after_a_large_import(tmp_path, capsys, monkeypatch):
    from safeharbor.directory.management.commands import import_hsds

    path = tmp_path / "services.json"
    path.write_text(json.dumps({"contents": [service_object(), service_object(name="Oak")]}))
    call_command("import_hsds", str(path), "--no-progress")
    assert "optimize_directory" not in capsys.readouterr().out
    monkeypatch.setattr(import_hsds, "LARGE_IMPORT", 2)
    call_command("import_hsds", str(path), "--no-progress")
    assert "run `manage.py optimize_directory`" in capsys.readouterr().out
