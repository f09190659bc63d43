"""The official HSDS 3.0 schemas, read from ``settings.SAFEHARBOR_HSDS_DIR`` (never copied here).

The schemas refer to each other by their public URLs (``https://raw.githubusercontent.com/
openreferral/specification/3.0/schema/...``) or relatively; offline, every such URL is mapped to
the local file:

- ``registry()``: a ``referencing.Registry`` holding every schema file and ``openapi.json`` under
  its public URL, for the ``jsonschema`` validators (detailed messages; API response checks).
- ``fast_validator(name)``: a ``jsonschema_rs`` validator of the same file with the same URL
  mapping, for the importer, which validates hundreds of thousands of objects.

Formats are checked (``uuid``, ``email``, ``date``, ``date-time``...), except ``uri``: real
directories hold web addresses like ``www.example.org``, which are not URIs; we keep them as
given.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema_rs
from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

PUBLIC_BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
OPENAPI_URL = PUBLIC_BASE + "openapi.json"
HSDS_VERSION = "3.0"


class SchemasMissing(Exception):
    """The HSDS schema folder is not where settings say."""


def hsds_dir() -> Path:
    """``SAFEHARBOR_HSDS_DIR`` (a setting or an environment variable), by default
    ``../shared/data/hsds-3.0`` beside the project."""
    configured = getattr(settings, "SAFEHARBOR_HSDS_DIR", "") or os.environ.get(
        "SAFEHARBOR_HSDS_DIR", ""
    )
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "hsds-3.0"


def schema_dir() -> Path:
    folder = hsds_dir() / "schema"
    if not (folder / "service.json").is_file():
        raise SchemasMissing(
            f"The HSDS 3.0 schemas are not in {folder}. Set SAFEHARBOR_HSDS_DIR to the folder "
            "holding schema/ and datapackage.json (see docs/directory.md)."
        )
    return folder


@functools.cache
def _load(relative: str) -> Any:
    return json.loads((schema_dir() / relative).read_text())


def load(relative: str) -> Any:
    """A schema file by its path under schema/, e.g. ``compiled/service.json``."""
    return _load(relative)


@functools.cache
def datapackage() -> dict[str, Any]:
    path = hsds_dir() / "datapackage.json"
    if not path.is_file():
        raise SchemasMissing(f"The HSDS 3.0 datapackage.json is not in {hsds_dir()}.")
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def _local_files() -> dict[str, str]:
    """Public URL -> path under schema/, for every schema file."""
    folder = schema_dir()
    files = {}
    for path in sorted(folder.rglob("*.json")):
        relative = path.relative_to(folder).as_posix()
        files[PUBLIC_BASE + relative] = relative
    return files


@functools.cache
def registry() -> Registry:
    resources = [
        (url, Resource.from_contents(load(relative), default_specification=DRAFT202012))
        for url, relative in _local_files().items()
    ]
    return Registry().with_resources(resources)


def _retrieve(uri: str) -> Any:
    relative = _local_files().get(uri.split("#", 1)[0])
    if relative is None:
        raise ValueError(f"Not an HSDS 3.0 schema: {uri}")
    return load(relative)


def _lenient_uri(value: str) -> bool:
    return True  # see the module docstring: web addresses are kept as given


@functools.cache
def fast_validator(relative: str) -> Any:
    """A compiled jsonschema_rs validator of schema/<relative>."""
    return jsonschema_rs.validator_for(
        {"$ref": PUBLIC_BASE + relative},
        retriever=_retrieve,
        validate_formats=True,
        formats={"uri": _lenient_uri},
    )


_FORMATS = FormatChecker()
_FORMATS.checkers.pop("uri", None)


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A jsonschema validator of any schema that refers to the HSDS files by URL."""
    return Draft202012Validator(schema, registry=registry(), format_checker=_FORMATS)


def response_schema(path: str) -> dict[str, Any]:
    """The schema of a 200 response of the HSDS API (``schema/openapi.json``), as a reference
    into the registered OpenAPI document, so its ``#/components`` references resolve."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "$ref": f"{OPENAPI_URL}#/paths/{pointer}/get/responses/200/content/application~1json/schema"
    }
