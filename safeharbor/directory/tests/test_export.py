"""Exports validate against the official schemas, and export -> import gives the same
directory."""

from __future__ import annotations

import csv
import io
import json

import pytest

from safeharbor.directory import exporter, importer, schemas
from safeharbor.directory.demo import as_source, generate
from safeharbor.directory.hsds import ENTITIES, WRITE_ORDER
from safeharbor.directory.models import Service
from safeharbor.directory.services import directory_import

from .factories import example_package, load, service_object

pytestmark = pytest.mark.django_db


def _wipe():
    for name in reversed(WRITE_ORDER):
        ENTITIES[name].model.objects.all().delete()
    from safeharbor.directory.models import Capacity, SearchWord

    Capacity.objects.all().delete()
    SearchWord.objects.all().delete()


@pytest.fixture
def directory():
    report = directory_import(
        actor=None, json_sources=[(as_source(generate(seed=3, count=25)), "service")]
    )
    assert report.ok
    load(service_object(name="Confidential Safe House", confidential=True, capacity=(1, 6)))
    directory_import(actor=None, package=example_package(), lenient=True)
    return Service.objects.count()


def test_json_export_validates_as_a_page_of_full_services(directory):
    document = exporter.export_json()
    assert document["total_items"] == directory
    page = schemas.validator(schemas.response_schema("/services"))
    assert not list(page.iter_errors(document))  # the page wrapper and list items
    full = schemas.validator({"$ref": schemas.PUBLIC_BASE + "compiled/service.json"})
    for item in document["contents"]:
        errors = [e.message for e in full.iter_errors(item)]
        assert not errors, (item["id"], errors)


def test_csv_export_rows_validate_and_references_hold(directory):
    files = exporter.export_datapackage()
    descriptor = json.loads(files["datapackage.json"])
    ids: dict[str, set[str]] = {}
    rows_of: dict[str, list[dict]] = {}
    for resource in descriptor["resources"]:
        name = resource["name"]
        types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
        rows = list(csv.DictReader(io.StringIO(files[resource["path"]].decode())))
        validator = schemas.validator({"$ref": schemas.PUBLIC_BASE + f"{name}.json"})
        for line, row in enumerate(rows, start=2):
            values = {k: importer._csv_value(types[k], v) for k, v in row.items() if v != ""}
            errors = [e.message for e in validator.iter_errors(values)]
            assert not errors, (resource["path"], line, errors)
        ids[name] = {r["id"] for r in rows}
        rows_of[name] = rows
    for resource in descriptor["resources"]:
        for key in resource["schema"].get("foreignKeys", []):
            target = key["reference"]["resource"]
            for row in rows_of[resource["name"]]:
                value = row[key["fields"]]
                assert not value or value in ids[target], (resource["name"], key, value)


def test_json_export_then_import_gives_the_same_directory(directory):
    first = exporter.export_json()
    _wipe()
    source = importer.Source("export.json", json.dumps(first).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")])
    assert report.ok, [str(e) for e in report.errors]
    assert exporter.export_json() == first


def test_csv_export_then_import_gives_the_same_directory(directory):
    first = exporter.export_datapackage()
    _wipe()
    package = {name: importer.Source(name, content) for name, content in first.items()}
    report = directory_import(actor=None, package=package)
    assert report.ok, [str(e) for e in report.errors]
    assert exporter.export_datapackage() == first


def test_export_command_writes_both_forms(directory, tmp_path):
    from django.core.management import call_command

    call_command("export_hsds", str(tmp_path / "d.json"), "--format", "json")
    call_command("export_hsds", str(tmp_path / "pkg"), "--format", "csv")
    assert json.loads((tmp_path / "d.json").read_text())["total_items"] == directory
    assert (tmp_path / "pkg" / "services.csv").exists()
    assert (tmp_path / "pkg" / "datapackage.json").exists()
