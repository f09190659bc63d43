"""Helpers every benchmark shares: its own database (SQLite file or PostgreSQL database, made
and dropped from the URL), a small table remembering what was built there, and a test client
that has passed MFA. Each bench_*.py imports them after putting the project root on sys.path."""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any


def db_config(url: str) -> dict[str, Any]:
    import environ

    return environ.Env.db_url_config(url)


def pg_admin(config: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(
        host=config.get("HOST") or "127.0.0.1",
        port=int(config.get("PORT") or 5432),
        user=config.get("USER") or "postgres",
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def database_exists(config: dict[str, Any]) -> bool:
    if config["ENGINE"].endswith("sqlite3"):
        return Path(config["NAME"]).exists()
    with pg_admin(config) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
    return row is not None


def drop_and_create(config: dict[str, Any]) -> None:
    from django.db import connections

    connections.close_all()
    if config["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(config["NAME"] + suffix).unlink()
        return
    from psycopg import sql

    with pg_admin(config) as conn:
        name = sql.Identifier(config["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def read_meta() -> dict[str, Any] | None:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM bench_meta WHERE name = 'build'")
            row = cursor.fetchone()
    except DatabaseError:
        return None
    return json.loads(row[0]) if row else None


def write_meta(meta: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta "
            "(name varchar(50) PRIMARY KEY, value text NOT NULL)"
        )
        cursor.execute("DELETE FROM bench_meta WHERE name = 'build'")
        cursor.execute(
            "INSERT INTO bench_meta (name, value) VALUES ('build', %s)", [json.dumps(meta)]
        )


def verified_client(user: Any) -> Any:
    """A test client logged in as ``user`` and past MFA, in a process set up like a server
    worker (``config/wsgi.py`` freezes what is loaded out of the garbage collector's way)."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    set_up_like_a_worker()
    return client


def set_up_like_a_worker() -> None:
    """Keep what is loaded by now out of the garbage collector's full passes, as
    ``config/wsgi.py`` does in a server worker (unfrozen, a full pass over Django and the apps
    pauses a request for 40-100 ms every few dozen)."""
    gc.collect()
    gc.freeze()


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (the values need not be sorted)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def summary(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    """Nearest-rank p50 and p95, the max and the count (with a handful of runs, p95 is the
    slowest)."""
    ordered = sorted(values)

    def rank(fraction: float) -> float:
        return round(ordered[max(1, math.ceil(fraction * len(ordered))) - 1], digits)

    return {
        "n": len(ordered),
        "p50": rank(0.5),
        "p95": rank(0.95),
        "max": round(ordered[-1], digits),
    }


def wait_for_quiet(threshold: float, patience_s: float, log: Callable[[str], None]) -> float:
    """Wait (up to ``patience_s``) for the 1-minute load average to fall below ``threshold``:
    other work on a small machine inflates every p95. Returns the seconds waited."""
    started = time.perf_counter()
    if os.getloadavg()[0] >= threshold:
        log(
            f"waiting for the load average ({os.getloadavg()[0]:.1f}) to fall below "
            f"{threshold} (at most {patience_s:.0f} s)"
        )
    while os.getloadavg()[0] >= threshold and time.perf_counter() - started < patience_s:
        time.sleep(5)
    waited = round(time.perf_counter() - started, 1)
    if waited:
        log(f"waited {waited} s for the load average (now {os.getloadavg()[0]:.1f})")
    return waited


def trim_audit_trail(after_seq: int, head_hash: str) -> int:
    """Remove the audit events after ``after_seq`` (and the lists of youth only they named) and
    point the chain head back at ``head_hash``, so that every run measures at exactly the built
    scale; returns how many events went.

    The trail is append-only by trigger; in a throw-away benchmark database the triggers are
    lifted for the delete and put back, as the project's own ``flush`` command does for tests."""
    from django.db import connection, transaction

    from safeharbor.audit import triggers
    from safeharbor.audit.choices import AuditAction
    from safeharbor.audit.models import AuditChainHead, AuditEvent, AuditListedYouth

    extra = AuditEvent.objects.filter(seq__gt=after_seq)
    count = extra.count()
    if count:
        kept = AuditEvent.objects.filter(seq__lte=after_seq, action=AuditAction.LIST)
        new_lists = AuditListedYouth.objects.filter(
            list_digest__in=extra.filter(action=AuditAction.LIST).values("object_id")
        ).exclude(list_digest__in=kept.values("object_id"))
        with transaction.atomic():
            triggers.remove(connection)
            new_lists._raw_delete(new_lists.db)
            extra._raw_delete(extra.db)
            triggers.install(connection)
            AuditChainHead.objects.filter(pk=1).update(seq=after_seq, hash=head_hash)
    return count


def logger(name: str) -> Callable[[str], None]:
    """Benchmark ``name``'s progress lines, on stderr (stdout carries its JSON result)."""

    def log(message: str) -> None:
        print(f"[bench {name}] {message}", file=sys.stderr, flush=True)

    return log


@contextlib.contextmanager
def build_step(steps: dict[str, float], name: str, log: Callable[[str], None]) -> Iterator[None]:
    """Time one step of building a benchmark's data into ``steps`` (seconds) and log it."""
    t0 = time.perf_counter()
    yield
    steps[name] = round(time.perf_counter() - t0, 1)
    log(f"{name}: {steps[name]} s")
