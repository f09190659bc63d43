"""Contact benchmark: "needs attention today" at 10,000 youth, 1,000,000 contact attempts and
20,000 missing-from-care episodes.

Target (issue 5): the supervisor's team page (a supervisor whose agency has 10 workers) at p95
at most 100 ms server time, on SQLite and PostgreSQL. Also measured, without a target: a
worker's own page, the API's team list, and the youth page with its contact section.

Run through ``make bench`` (``benchmarks/run.py --only contact``), or alone:

    DATABASE_URL=sqlite:////tmp/bench-contact.sqlite3 .venv/bin/python benchmarks/bench_contact.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_contact \
        .venv/bin/python benchmarks/bench_contact.py

It prints one JSON object on stdout; progress goes to stderr.

The data: the measured agency ("Harbor County Children's Services") has 10 caseworkers, a
supervisor, and 500 youth (50 each); 9,500 more youth belong to two other agencies, so that the
tables hold the full volume. Each youth has ~100 contact attempts over two years (encrypted
notes on one in five), its last conversation within 14 days for most and weeks ago for about
one in six (lost contact); two missing episodes on average, nearly all closed with reports and
the screening done, about 3% open (some not yet reported) and 1% back and awaiting screening;
one in ten youth has a mentor assigned in the last 30 days. Rows go in with ``bulk_create``
through the real model fields (so the free text is really encrypted). The built database is
reused while its fingerprint (scale, ``BUILD_VERSION``, the keys, the migrations) and row
counts match.

Server time is the wall time of ``django.test.Client.get`` in this process: routing, every
middleware (session saved, MFA, CSP, axes), the view, its queries, its audit events (one per
youth listed) and the template. No network, no web server.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import (  # noqa: E402  (after the project root is on sys.path)
    build_step,
    database_exists,
    db_config,
    drop_and_create,
    logger,
    read_meta,
    summary,
    verified_client,
    wait_for_quiet,
    write_meta,
)

NAME = "contact"
TITLE = "Contact: needs attention today, with a million contact attempts"
# Bump when the data that build() makes changes, so that cached databases are rebuilt.
BUILD_VERSION = 1
SEED = 2027
DEFAULT_URL = "sqlite:////tmp/bench-contact.sqlite3"
TARGET_TEAM_MS = 100.0
MEASURED_AGENCY = "Harbor County Children's Services"


@dataclass(frozen=True)
class Scale:
    youth: int
    attempts: int
    episodes: int
    requests: int
    warmup: int
    workers: int = 10  # in the measured agency
    caseload: int = 50


FULL = Scale(youth=10_000, attempts=1_000_000, episodes=20_000, requests=200, warmup=20)
QUICK = Scale(youth=1_000, attempts=50_000, episodes=2_000, requests=40, warmup=5)


log = logger(NAME)


# --------------------------------------------------------------------------- database set-up


def _fingerprint(scale: Scale) -> dict[str, Any]:
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    keys = hashlib.sha256(
        (settings.SAFEHARBOR_DATA_KEYS + settings.SAFEHARBOR_BLIND_INDEX_KEY).encode()
    ).hexdigest()[:16]
    return {
        "build_version": BUILD_VERSION,
        "seed": SEED,
        "scale": [scale.youth, scale.attempts, scale.episodes, scale.workers],
        "keys": keys,
        "migrations": sorted(f"{app}.{name}" for app, name in loader.disk_migrations),
    }


def _cache_problem(scale: Scale) -> str | None:
    from safeharbor.contact.models import ContactAttempt, MissingEpisode
    from safeharbor.youth.models import Youth

    meta = read_meta()
    if meta is None:
        return "no build marker"
    if meta.get("fingerprint") != _fingerprint(scale):
        return "built by other code or at another scale"
    if Youth.objects.count() != scale.youth:
        return "youth count differs"
    if ContactAttempt.objects.count() != scale.attempts:
        return "attempt count differs"
    if MissingEpisode.objects.count() != scale.episodes:
        return "episode count differs"
    return None


def prepare_database(config: dict[str, Any], scale: Scale, rebuild: bool) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    if not rebuild and database_exists(config):
        problem = _cache_problem(scale)
        if problem is None:
            meta = read_meta() or {}
            log(f"reusing the database built {meta.get('built_at')}")
            return {"cached": True, **{k: v for k, v in meta.items() if k != "fingerprint"}}
        log(f"rebuilding: {problem}")
    started = time.perf_counter()
    drop_and_create(config)
    log(f"migrating {config['NAME']}")
    call_command("migrate", verbosity=0, interactive=False)
    steps = {"drop_create_migrate": round(time.perf_counter() - started, 1), **build(scale)}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            t0 = time.perf_counter()
            cursor.execute("VACUUM ANALYZE")  # what autovacuum would do after a bulk load
            steps["vacuum_analyze"] = round(time.perf_counter() - t0, 1)
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    meta = {
        "fingerprint": _fingerprint(scale),
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 1),
        "steps_seconds": steps,
    }
    write_meta(meta)
    return {"cached": False, **{k: v for k, v in meta.items() if k != "fingerprint"}}


# --------------------------------------------------------------------------- building the data

_NOTES = (
    "Youth sounded well; agreed to meet on Friday.",
    "Voicemail full.",
    "Youth said someone was nearby; will try again tomorrow.",
    "Talked through the safety plan.",
)


def build(scale: Scale) -> dict[str, float]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from safeharbor.accounts.choices import AgencyKind, Role
    from safeharbor.accounts.models import Agency, Membership, User
    from safeharbor.contact.choices import Channel, Outcome
    from safeharbor.contact.models import ContactAttempt, LocationAttempt, MissingEpisode
    from safeharbor.core import clock
    from safeharbor.core.crypto import blind_index
    from safeharbor.core.demo.people import PeopleGenerator
    from safeharbor.youth.choices import TeamRole
    from safeharbor.youth.models import CareTeamMember, Youth

    rng = random.Random(SEED)
    now = clock.now()
    today = clock.today()
    people = PeopleGenerator(SEED, today)
    steps: dict[str, float] = {}

    # Agencies and staff: the measured agency has ``workers`` caseworkers and one supervisor.
    measured_youth = scale.workers * scale.caseload
    others = scale.youth - measured_youth
    agencies = [
        Agency(name=MEASURED_AGENCY, kind=AgencyKind.CHILD_WELFARE, county="Harbor"),
        Agency(name="Valley County Probation", kind=AgencyKind.PROBATION, county="Valley"),
        Agency(
            name="Lighthouse Advocates",
            kind=AgencyKind.ADVOCACY,
            county="Harbor",
            is_victim_service_provider=True,
        ),
    ]
    Agency.objects.bulk_create(agencies)
    agency_ids = dict(Agency.objects.values_list("name", "id"))
    measured_id = agency_ids[MEASURED_AGENCY]
    valley_id = agency_ids["Valley County Probation"]
    plan: list[tuple[str, int, str]] = [
        (f"cw{i:02d}", measured_id, Role.CASEWORKER) for i in range(1, scale.workers + 1)
    ]
    plan.append(("supervisor", measured_id, Role.SUPERVISOR))
    other_workers = max(1, math.ceil(others / scale.caseload))
    plan += [(f"po{i:03d}", valley_id, Role.CASEWORKER) for i in range(1, other_workers + 1)]
    plan += [
        (f"mentor{i:02d}", agency_ids["Lighthouse Advocates"], Role.ADVOCATE) for i in range(1, 11)
    ]
    password = make_password("bench-only-password-not-used")
    User.objects.bulk_create(
        User(username=u, first_name=u.title(), last_name="Bench", password=password)
        for u, _a, _r in plan
    )
    ids = dict(User.objects.values_list("username", "id"))
    Membership.objects.bulk_create(
        Membership(user_id=ids[u], agency_id=a, role=r) for u, a, r in plan
    )
    workers = [ids[u] for u, a, r in plan if a == measured_id and r == Role.CASEWORKER]
    probation = [ids[u] for u, a, r in plan if a == valley_id]
    mentors = [ids[u] for u, _a, r in plan if r == Role.ADVOCATE]

    # Youth, with identifiers encrypted by the model fields.
    alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"
    numbers: set[str] = set()
    while len(numbers) < scale.youth:
        numbers.add("Y-" + "".join(rng.choice(alphabet) for _ in range(8)))
    youth: list[Youth] = []
    leads: list[int] = []
    for index, number in enumerate(sorted(numbers)):
        measured = index < measured_youth
        person = people.person()
        youth.append(
            Youth(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                record_number=number,
                owning_agency_id=measured_id if measured else valley_id,
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
                phone=person.phone,
                county="Harbor",
                duplicate_index=blind_index(
                    person.given_name, person.family_name, person.date_of_birth.isoformat()
                ),
            )
        )
        leads.append(
            workers[index // scale.caseload]
            if measured
            else probation[(index - measured_youth) // scale.caseload]
        )
    with build_step(steps, "youth", log), transaction.atomic():
        Youth.objects.bulk_create(youth, batch_size=1000)
        Youth.objects.update(created_at=now - datetime.timedelta(days=800))
        members = [
            CareTeamMember(
                youth_id=y.pk,
                user_id=lead,
                team_role=TeamRole.LEAD,
                starts_on=today - datetime.timedelta(days=rng.randint(60, 700)),
            )
            for y, lead in zip(youth, leads, strict=True)
        ]
        for y in youth:
            if rng.random() < 0.1:  # a mentor assigned in the last 30 days
                members.append(
                    CareTeamMember(
                        youth_id=y.pk,
                        user_id=rng.choice(mentors),
                        team_role=TeamRole.ADVOCATE,
                        starts_on=today - datetime.timedelta(days=rng.randint(0, 29)),
                    )
                )
        CareTeamMember.objects.bulk_create(members, batch_size=2000)

    # A million contact attempts: ~100 a youth over two years; the last conversation recent
    # for most, weeks ago for about one in six.
    per_youth = scale.attempts // scale.youth
    extra = scale.attempts - per_youth * scale.youth
    channels = list(Channel.values)
    not_reached = [o for o in Outcome.values if o != Outcome.REACHED]
    with build_step(steps, "contact_attempts", log):
        batch: list[ContactAttempt] = []
        for index, (y, lead) in enumerate(zip(youth, leads, strict=True)):
            count = per_youth + (1 if index < extra else 0)
            last_reached = now - datetime.timedelta(
                hours=rng.randint(1, 13 * 24)
                if rng.random() < 0.83
                else rng.randint(15 * 24, 90 * 24)
            )
            for k in range(count):
                if k == 0:
                    when, outcome = last_reached, Outcome.REACHED
                else:
                    when = now - datetime.timedelta(minutes=rng.randint(60, 730 * 24 * 60))
                    outcome = (
                        Outcome.REACHED
                        if when < last_reached and rng.random() < 0.5
                        else rng.choice(not_reached)
                    )
                batch.append(
                    ContactAttempt(
                        youth_id=y.pk,
                        attempted_at=when,
                        attempted_by_id=lead,
                        channel=rng.choice(channels),
                        outcome=outcome,
                        note=rng.choice(_NOTES) if rng.random() < 0.2 else "",
                    )
                )
            if len(batch) >= 20_000:
                with transaction.atomic():
                    ContactAttempt.objects.bulk_create(batch, batch_size=5000)
                batch = []
        with transaction.atomic():
            ContactAttempt.objects.bulk_create(batch, batch_size=5000)

    # Missing episodes: mostly closed, reported and screened; ~3% open, ~1% awaiting screening.
    with build_step(steps, "missing_episodes", log):
        episodes: list[MissingEpisode] = []
        open_youth: set[uuid.UUID] = set()
        for k in range(scale.episodes):
            y_index = k % scale.youth
            y, lead = youth[y_index], leads[y_index]
            state = rng.random()
            if state < 0.03 and y.pk not in open_youth:
                open_youth.add(y.pk)
                learned = now - datetime.timedelta(hours=rng.randint(1, 60 * 24))
                started = learned - datetime.timedelta(hours=rng.randint(0, 12))
                reported = rng.random() < 0.7
                episodes.append(
                    MissingEpisode(
                        youth_id=y.pk,
                        started_at=started,
                        learned_at=learned,
                        last_seen_where="Bus stop",
                        description="Star tattoo on the left wrist",
                        recorded_by_id=lead,
                        reported_to_law_enforcement_at=learned if reported else None,
                        reported_to_law_enforcement_by_id=lead if reported else None,
                        reported_to_ncmec_at=learned if reported else None,
                        reported_to_ncmec_by_id=lead if reported else None,
                    )
                )
                continue
            started = now - datetime.timedelta(days=rng.randint(3, 700), hours=rng.randint(0, 23))
            learned = started + datetime.timedelta(hours=1)
            ended = started + datetime.timedelta(days=rng.randint(1, 20))
            ended = min(ended, now - datetime.timedelta(hours=2))
            screened = None if state < 0.04 else ended + datetime.timedelta(hours=6)
            episodes.append(
                MissingEpisode(
                    youth_id=y.pk,
                    started_at=started,
                    learned_at=learned,
                    ended_at=ended,
                    recorded_by_id=lead,
                    clothing="Red jacket",
                    reported_to_law_enforcement_at=learned,
                    reported_to_law_enforcement_by_id=lead,
                    reported_to_ncmec_at=learned,
                    reported_to_ncmec_by_id=lead,
                    return_screening_at=screened,
                    return_screening_by_id=lead if screened else None,
                )
            )
        with transaction.atomic():
            MissingEpisode.objects.bulk_create(episodes, batch_size=2000)
            open_ids = list(
                MissingEpisode.objects.filter(ended_at__isnull=True).values_list(
                    "pk", "learned_at", "recorded_by_id"
                )
            )
            LocationAttempt.objects.bulk_create(
                LocationAttempt(
                    episode_id=pk,
                    attempted_at=learned + datetime.timedelta(hours=2),
                    made_by_id=by,
                    what_was_done="Called friends and the shelter",
                )
                for pk, learned, by in open_ids
                if learned + datetime.timedelta(hours=2) < now
            )
    log(
        f"{len(youth)} youth, {scale.attempts} attempts, {len(episodes)} episodes "
        f"({len(open_youth)} open)"
    )
    return steps


# --------------------------------------------------------------------------- measuring


def _headers(url: str) -> dict[str, str]:
    return {"accept": "application/json"} if url.startswith("/api/") else {}


def time_gets(
    client: Any, urls: Sequence[str], requests: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Wall time and this process's CPU time of each request, in ms. On a shared machine the
    wall time includes waiting for a core; the CPU time does not (nor the PostgreSQL server's
    own work, which runs in another process)."""
    wall, cpu = [], []
    for i in range(warmup + requests):
        url = urls[i % len(urls)]
        c0, t0 = time.process_time(), time.perf_counter()
        response = client.get(url, headers=_headers(url))
        elapsed, used = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}, not 200")
        if i >= warmup:
            wall.append(elapsed)
            cpu.append(used)
    return wall, cpu


def query_profile(client: Any, url: str, repeat: int = 5) -> dict[str, Any]:
    """Median of ``repeat`` requests: query count, time in SQL, the slowest statement."""
    from django.db import connection

    runs: list[tuple[float, float, int, float, str]] = []
    for _ in range(repeat):
        spans: list[tuple[float, str]] = []

        def wrapper(
            execute: Any,
            sql: str,
            params: Any,
            many: bool,
            context: Any,
            spans: list[tuple[float, str]] = spans,
        ) -> Any:
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spans.append(((time.perf_counter() - t0) * 1000, sql))

        with connection.execute_wrapper(wrapper):
            t0 = time.perf_counter()
            client.get(url, headers=_headers(url))
            total = (time.perf_counter() - t0) * 1000
        slowest = max(spans, default=(0.0, ""))
        runs.append((total, sum(t for t, _ in spans), len(spans), *slowest))
    runs.sort()
    total, sql_ms, count, slowest_ms, slowest_sql = runs[len(runs) // 2]
    return {
        "queries": count,
        "profile_total_ms": round(total, 2),
        "sql_ms": round(sql_ms, 2),
        "python_ms": round(total - sql_ms, 2),
        "slowest_ms": round(slowest_ms, 2),
        "slowest_sql": " ".join(slowest_sql.split())[:400],
    }


def measure(scale: Scale) -> dict[str, Any]:
    from safeharbor.accounts.models import User
    from safeharbor.contact import attention
    from safeharbor.core import clock

    supervisor = User.objects.get(username="supervisor")
    worker = User.objects.get(username="cw01")
    now = clock.now()
    team_items = attention.items_for(actor=supervisor, team=True, now=now)
    mine_items = attention.items_for(actor=worker, team=False, now=now)
    team_scope = attention.scope_for_supervisor(supervisor).count()
    sup = verified_client(supervisor)
    cw = verified_client(worker)
    some_youth = list(attention.scope_for_worker(worker).values_list("pk", flat=True)[:20])
    pages = max(1, math.ceil(len(team_items) / attention.PAGE_SIZE))
    endpoints: list[tuple[str, str, Any, list[str], float | None]] = [
        (
            "team_page",
            f"Team page, supervisor of {scale.workers} workers ({team_scope} youth, "
            f"{len(team_items)} items), page 1",
            sup,
            ["/contact/attention/team/"],
            TARGET_TEAM_MS,
        ),
        (
            "team_page_any",
            f"Team page, any of its {pages} pages",
            sup,
            [f"/contact/attention/team/?page={p}" for p in range(1, pages + 1)],
            None,
        ),
        (
            "worker_page",
            f"Worker's own page ({len(mine_items)} items)",
            cw,
            ["/contact/attention/"],
            None,
        ),
        (
            "api_team",
            "API attention, team scope, page 1",
            sup,
            ["/api/v1/attention/?scope=team"],
            None,
        ),
        (
            "youth_page",
            "Youth page with its contact section (care team)",
            cw,
            [f"/youth/{pk}/" for pk in some_youth],
            None,
        ),
    ]
    results: dict[str, Any] = {}
    for key, label, client, urls, target in endpoints:
        t0 = time.perf_counter()
        wall, cpu = time_gets(client, urls, scale.requests, scale.warmup)
        stats = summary(wall)
        cpu_stats = summary(cpu)
        profile = query_profile(client, urls[0])
        results[key] = {
            "label": label,
            "target_ms": target,
            **stats,
            "cpu_p50": cpu_stats["p50"],
            "cpu_p95": cpu_stats["p95"],
            **profile,
            "url": urls[0],
        }
        log(
            f"{key}: p50 {stats['p50']} p95 {stats['p95']} max {stats['max']} ms "
            f"(this process's CPU: p95 {cpu_stats['p95']} ms), "
            f"{profile['queries']} queries ({time.perf_counter() - t0:.1f} s)"
        )
    return results


def database_facts(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from safeharbor.audit.models import AuditEvent
    from safeharbor.contact.models import ContactAttempt, MissingEpisode
    from safeharbor.youth.models import CareTeamMember, ConsentToShare, Note, Youth

    facts: dict[str, Any] = {
        "vendor": connection.vendor,
        "youth": Youth.objects.count(),
        "contact_attempts": ContactAttempt.objects.count(),
        "missing_episodes": MissingEpisode.objects.count(),
        "care_team_rows": CareTeamMember.objects.count(),
        "consents": ConsentToShare.objects.count(),
        "notes": Note.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('server_version'), "
                "pg_database_size(current_database()), "
                "current_setting('shared_buffers')"
            )
            version, size, shared_buffers = cursor.fetchone()
            facts.update(
                version=f"PostgreSQL {version}",
                size_mb=round(size / 2**20, 1),
                settings=f"shared_buffers={shared_buffers}",
            )
        else:
            cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
            size = sum(
                Path(config["NAME"] + s).stat().st_size
                for s in ("", "-wal")
                if Path(config["NAME"] + s).exists()
            )
            facts.update(
                version=f"SQLite {version}",
                size_mb=round(size / 2**20, 1),
                settings="journal_mode=WAL, synchronous=NORMAL",
            )
    return facts


def metrics(
    endpoints: dict[str, Any], facts: dict[str, Any], build_info: dict[str, Any]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, e in endpoints.items():
        rows.append(
            {
                "key": key,
                "label": e["label"],
                "value": e["p95"],
                "unit": "ms",
                "stat": "p95",
                "target": e["target_ms"],
                "detail": f"p50 {e['p50']}, max {e['max']}; CPU of this process p95 "
                f"{e['cpu_p95']}; {e['queries']} queries taking {e['sql_ms']} of "
                f"{e['profile_total_ms']} ms",
            }
        )
    built = ("cached, " if build_info.get("cached") else "") + f"built {build_info.get('built_at')}"
    rows.append(
        {
            "key": "build_seconds",
            "label": "Build time (drop, migrate, load)",
            "value": build_info.get("build_seconds"),
            "unit": "s",
            "stat": "",
            "target": None,
            "detail": built,
        }
    )
    rows.append(
        {
            "key": "db_size",
            "label": "Database size",
            "value": facts["size_mb"],
            "unit": "MB",
            "stat": "",
            "target": None,
            "detail": f"{facts['contact_attempts']:,} attempts, "
            f"{facts['missing_episodes']:,} episodes",
        }
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or NAME).splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scale, for a smoke run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    parser.add_argument("--requests", type=int, help="requests per endpoint (after warm-up)")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.requests:
        scale = Scale(**{**asdict(scale), "requests": args.requests})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    config = db_config(url)
    import django

    django.setup()
    started = time.perf_counter()
    build_info = prepare_database(config, scale, rebuild=args.rebuild)
    facts = database_facts(config)
    log(
        f"{facts['version']}: {facts['youth']} youth, {facts['contact_attempts']:,} attempts, "
        f"{facts['missing_episodes']:,} episodes, {facts['size_mb']} MB"
    )
    waited = wait_for_quiet(
        threshold=1.5, patience_s=float(os.environ.get("BENCH_PATIENCE", 240)), log=log
    )
    load_before = os.getloadavg()
    measure_started = time.perf_counter()
    endpoints = measure(scale)
    load_after = os.getloadavg()
    result = {
        "benchmark": NAME,
        "title": TITLE,
        "quick": args.quick,
        "scale": asdict(scale),
        "database": facts,
        "build": build_info,
        "endpoints": endpoints,
        "measure_seconds": round(time.perf_counter() - measure_started, 1),
        "waited_for_quiet_seconds": waited,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "total_seconds": round(time.perf_counter() - started, 1),
        "metrics": metrics(endpoints, facts, build_info),
    }
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
