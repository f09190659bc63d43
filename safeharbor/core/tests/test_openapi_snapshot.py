"""The committed OpenAPI schema (docs/api/openapi.yaml) matches what the code serves.

An API change shows up as a diff of that file in review; regenerate it with `make schema`.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

SNAPSHOT = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.yaml"


def test_committed_schema_is_current(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert SNAPSHOT.read_text() == generated.read_text(), (
        "The API changed: run `make schema` and commit docs/api/openapi.yaml."
    )
