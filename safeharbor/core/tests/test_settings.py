"""Start-up configuration: a missing variable stops with one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

REQUIRED = [
    "SECRET_KEY",
    "SAFEHARBOR_DATA_KEYS",
    "SAFEHARBOR_BLIND_INDEX_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
]
FULL_ENV = {
    "SECRET_KEY": "x" * 60,
    "SAFEHARBOR_DATA_KEYS": "k1:" + "AQ" * 21 + "E=",
    "SAFEHARBOR_BLIND_INDEX_KEY": "Ag" * 21 + "I=",
    "ALLOWED_HOSTS": "example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
}


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_variable_stops_start_up_with_one_line_naming_it(missing, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    env.update({k: v for k, v in FULL_ENV.items() if k != missing})
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    # Run from an empty folder so no developer .env is read.
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(settings.BASE_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr
