"""Start-up configuration: a missing variable stops with one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

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
START_UP = "import django; django.setup()"


def start_up(
    tmp_path: Any,
    *,
    code: str = START_UP,
    module: str = "config.settings.production",
    env: dict[str, str] | None = None,
    without: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``module`` as settings: the production variables
    set (all but ``without``) plus ``env``, from an empty folder so no developer .env is read."""
    optional = ["DATABASE_REPLICA_URL", "EMAIL_URL", "DEFAULT_FROM_EMAIL"]
    environment = {k: v for k, v in os.environ.items() if k not in [*REQUIRED, *optional]}
    if module.endswith("production"):
        environment.update({k: v for k, v in FULL_ENV.items() if k != without})
    environment.update(env or {})
    environment["DJANGO_SETTINGS_MODULE"] = module
    environment["PYTHONPATH"] = str(settings.BASE_DIR)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_variable_stops_start_up_with_one_line_naming_it(missing, tmp_path):
    result = start_up(tmp_path, without=missing)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_outgoing_mail_comes_from_email_url(tmp_path):
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_HOST_USER, "
        "s.EMAIL_HOST_PASSWORD, s.DEFAULT_FROM_EMAIL, sep='|')"
    )
    result = start_up(
        tmp_path,
        code=probe,
        env={
            "EMAIL_URL": "smtp+tls://digest:s3cret@mail.example.org:587",
            "DEFAULT_FROM_EMAIL": "Harbor County <no-reply@example.org>",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "mail.example.org|587|True|digest|s3cret|Harbor County <no-reply@example.org>"
    )


def test_a_malformed_email_url_stops_start_up_with_one_line(tmp_path):
    result = start_up(tmp_path, env={"EMAIL_URL": "pigeon://loft:1"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "EMAIL_URL" in line
