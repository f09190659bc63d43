"""Seed the demo into a real database and prove the stored bytes hold no youth's name or phone.

Runs the real commands (migrate, seed_demo) in a subprocess against a fresh database of the
same engine as the suite: a SQLite file on SQLite, a scratch database dumped with pg_dump on
PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from safeharbor.core import clock
from safeharbor.core.demo.people import PeopleGenerator

ROOT = Path(settings.BASE_DIR)
SEED = 7
YOUTH = 60


def run_manage(database_url: str, *args: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def demo_identifiers() -> list[str]:
    people = PeopleGenerator(SEED, clock.today())
    found: list[str] = []
    for _ in range(YOUTH):
        person = people.person()
        found += [person.family_name, person.phone, f"{person.given_name} {person.family_name}"]
    return found


def assert_no_identifiers(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="replace")
    leaked = sorted({value for value in demo_identifiers() if value in text})
    assert leaked == [], f"plaintext identifiers at rest: {leaked[:5]}"
    # The check itself works: the stored data is there, just not readable.
    assert "Harbor County Children's Services" in text


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file check; runs on SQLite")
def test_sqlite_file_holds_no_demo_identifiers(tmp_path):
    database = tmp_path / "demo.sqlite3"
    url = f"sqlite:///{database}"
    run_manage(url, "migrate", "--no-input")
    run_manage(url, "seed_demo", "--seed", str(SEED), "--youth", str(YOUTH))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("demo"))
    assert_no_identifiers(raw)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump check; runs on PostgreSQL")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_postgresql_dump_holds_no_demo_identifiers():
    base = settings.DATABASES["default"]
    name = f"sh_at_rest_{uuid.uuid4().hex[:8]}"
    host, port, user = base["HOST"] or "127.0.0.1", str(base["PORT"] or 5432), base["USER"]
    url = f"postgres://{user}@{host}:{port}/{name}"
    admin = ["-h", host, "-p", port, "-U", user]
    subprocess.run(["createdb", *admin, name], check=True, timeout=60)
    try:
        run_manage(url, "migrate", "--no-input")
        run_manage(url, "seed_demo", "--seed", str(SEED), "--youth", str(YOUTH))
        dump = subprocess.run(
            ["pg_dump", *admin, name], check=True, capture_output=True, timeout=120
        ).stdout
        assert_no_identifiers(dump)
    finally:
        subprocess.run(["dropdb", *admin, "--if-exists", name], check=False, timeout=60)
