"""Malformed JSON and CSV never crash the importer: every error names its place, and nothing
is half-imported."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeharbor.directory import importer
from safeharbor.directory.hsds import ENTITIES, WRITE_ORDER
from safeharbor.directory.services import directory_import

from .factories import example_package, service_object

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "\ud800",
            "2026-13-40",
            "25:99",
            "not-a-uuid",
            "active",
            "00000000-0000-4000-8000-000000000000",
            "1e999",
            "-1",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "status",
                    "latitude",
                    "contents",
                    "attributes",
                    "service_at_locations",
                    "location",
                    "organization",
                    "value",
                    "x",
                ]
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


def _counts() -> dict[str, int]:
    return {name: ENTITIES[name].model.objects.count() for name in WRITE_ORDER}


def _check(report: importer.ImportReport, before: dict[str, int]) -> None:
    if report.errors:
        assert not report.written
        assert _counts() == before, "half-imported"
        for issue in report.errors:
            assert issue.file, issue
            assert issue.message
    for issue in report.removed_references:
        assert issue.file
        assert issue.field


def _mutate(obj, path: list, value):
    """Put ``value`` at ``path`` inside a copy of ``obj`` (as far as the path exists)."""
    obj = json.loads(json.dumps(obj))
    target = obj
    for key in path[:-1]:
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and isinstance(key, int) and key < len(target):
            target = target[key]
        else:
            return obj
    if isinstance(target, dict):
        target[path[-1]] = value
    return obj


PATHS = [
    ["id"],
    ["name"],
    ["status"],
    ["minimum_age"],
    ["last_modified"],
    ["organization", "id"],
    ["organization"],
    ["service_at_locations", 0, "location", "latitude"],
    ["service_at_locations", 0, "location", "addresses", 0, "postal_code"],
    ["service_at_locations", 0, "location", "id"],
    ["phones", 0, "number"],
    ["attributes"],
    ["languages", 0, "code"],
    ["schedules"],
    ["service_at_locations"],
]


@FUZZ
@given(document=json_values)
def test_arbitrary_json_never_crashes(document):
    before = _counts()
    source = importer.Source("fuzz.json", json.dumps(document).encode())
    _check(directory_import(actor=None, json_sources=[(source, "service")]), before)


@FUZZ
@given(content=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(content):
    before = _counts()
    report = directory_import(actor=None, json_sources=[(importer.Source("b.json", content), None)])
    _check(report, before)
    package = {"services.csv": importer.Source("services.csv", content)}
    _check(directory_import(actor=None, package=package), before)


@FUZZ
@given(path=st.sampled_from(PATHS), value=json_values, lenient=st.booleans())
def test_a_broken_field_in_a_valid_service(path, value, lenient):
    before = _counts()
    good, broken = service_object(name="Good"), _mutate(service_object(name="Bad"), path, value)
    source = importer.Source("two.json", json.dumps([good, broken]).encode())
    report = directory_import(actor=None, json_sources=[(source, "service")], lenient=lenient)
    _check(report, before)
    if report.errors:
        assert all(e.row in (None, 1, 2) for e in report.errors)


cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "x", "12", "1.5", "nan", "inf", "1e400", "2026-02-30", "\x00", '"', "a,b", "\n"]
    ),
)


@FUZZ
@given(
    name=st.sampled_from(
        [
            "services.csv",
            "locations.csv",
            "organizations.csv",
            "schedules.csv",
            "attributes.csv",
            "phones.csv",
            "datapackage.json",
        ]
    ),
    row=st.lists(cells, min_size=0, max_size=25),
    header_change=st.booleans(),
    lenient=st.booleans(),
)
def test_a_broken_csv_row(name, row, header_change, lenient):
    before = _counts()
    package = example_package()
    text = package[name].content.decode("utf-8-sig")
    lines = text.splitlines()
    if name == "datapackage.json":
        broken = text[: len(row) * 7] + "".join(row)
    else:
        header = lines[0] if not header_change else ",".join(reversed(lines[0].split(",")))
        out = [header, *lines[1:]]
        out.append(
            ",".join(json.dumps(c) if ("," in c or '"' in c or "\n" in c) else c for c in row)
        )
        broken = "\n".join(out) + "\n"
    package[name] = importer.Source(name, broken.encode("utf-8", "surrogatepass"))
    _check(directory_import(actor=None, package=package, lenient=lenient), before)
