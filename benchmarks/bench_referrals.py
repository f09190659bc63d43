"""Referrals benchmark: an agency receiving 10,000 referrals, 100,000 in the table.

Targets (the referrals issue): every page p95 at most 100 ms server time, and every write p95
at most 25 ms, on SQLite and PostgreSQL. Measured: creating a referral
(``services.referral_create``: policy, validation, insert, history, audit) and accepting one
(``services.referral_move``: row lock, policy, history, audit), each called directly as a view
does; and, through the Django test client as a verified user, the receiving agency's inbox
(open referrals, page 1) as a clinician, a referral's page as the receiving clinician, the youth
page with its referrals section as the youth's lead caseworker, and the supervisor's list of
referrals waiting too long.

Run through ``make bench`` (``benchmarks/run.py --only referrals``), or alone:

    DATABASE_URL=sqlite:////tmp/bench-referrals.sqlite3 \
        .venv/bin/python benchmarks/bench_referrals.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_referrals \
        .venv/bin/python benchmarks/bench_referrals.py

It prints one JSON object on stdout; progress goes to stderr. ``--quick`` runs a tenth of the
scale.

The data: 5,000 youth (3,000 of Harbor County Children's Services, the measured referring
agency with 60 caseworkers and a supervisor; 2,000 of a probation department), 20 referrals
each (100,000) sent over two years to a synthetic directory (``directory.demo``, loaded through
the importer): a tenth to services of Bayside Youth Clinic (the measured receiving agency,
10 clinicians: about 10,000 referrals), four tenths to eight other agencies on the platform,
half to services off the platform. Statuses follow the referral's age: recent ones mostly
waiting or under way, old ones mostly closed with an outcome (completed, declined, cancelled,
failed) and a few left open for too long; each with its history (about 290,000 events) and its
note, callback and outcome note encrypted by the real model fields. Three in ten youth referred
to the clinic have a live consent naming it for identity and referrals. The built database is
reused while its fingerprint (scale, this builder, the keys, the migrations) and row counts
match; the referrals and audit events an earlier run wrote are removed first.

Server time is the wall time of ``django.test.Client.get`` in this process: routing, every
middleware (session saved, MFA, CSP, axes), the view, its queries, its audit events (one per
youth listed) and the template. No network, no web server.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
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
    trim_audit_trail,
    verified_client,
    wait_for_quiet,
    write_meta,
)

NAME = "referrals"
TITLE = "Referrals: an agency receiving 10,000 referrals, 100,000 in the table"
# Bump when the data that build() makes changes, so that cached databases are rebuilt.
BUILD_VERSION = 1
SEED = 2027
DEFAULT_URL = "sqlite:////tmp/bench-referrals.sqlite3"
FINGERPRINTED_FILES = (
    "safeharbor/core/crypto.py",
    "safeharbor/core/fields.py",
    "safeharbor/directory/demo.py",
)
TARGET_PAGE_MS = 100.0
TARGET_WRITE_MS = 25.0
REFERRING = "Harbor County Children's Services"
PROBATION = "Valley County Probation"
CLINIC = "Bayside Youth Clinic"
OTHER_RECEIVERS = (
    "Harborlight Youth Services",
    "Bright Path Family Center",
    "Open Door Youth Network",
    "New Dawn Health Collective",
    "Golden Bridge Advocacy Project",
    "Northstar Community Alliance",
    "Wildflower Youth Services",
    "Cornerstone Family Center",
)


@dataclass(frozen=True)
class Scale:
    youth: int
    per_youth: int
    services: int
    requests: int
    warmup: int
    caseload: int = 50
    county_share: float = 0.6
    clinic_share: float = 0.1
    on_platform_share: float = 0.5  # the clinic's share included
    clinicians: int = 10
    consent_share: float = 0.3

    @property
    def referrals(self) -> int:
        return self.youth * self.per_youth


FULL = Scale(youth=5_000, per_youth=20, services=400, requests=200, warmup=20)
QUICK = Scale(youth=500, per_youth=20, services=200, requests=30, warmup=5)


log = logger(NAME)


# --------------------------------------------------------------------------- database set-up


def _fingerprint(scale: Scale) -> dict[str, Any]:
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    files = {
        name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:16]
        for name in FINGERPRINTED_FILES
    }
    keys = hashlib.sha256(
        (settings.SAFEHARBOR_DATA_KEYS + settings.SAFEHARBOR_BLIND_INDEX_KEY).encode()
    ).hexdigest()[:16]
    return {
        "build_version": BUILD_VERSION,
        "seed": SEED,
        "scale": {k: v for k, v in asdict(scale).items() if k not in ("requests", "warmup")},
        "files": files,
        "keys": keys,
        "migrations": sorted(f"{app}.{name}" for app, name in loader.disk_migrations),
    }


def remove_earlier_runs(meta: dict[str, Any]) -> tuple[int, int]:
    """Remove what earlier runs wrote (the referrals they made, with their history; their audit
    events, ``common.trim_audit_trail``), so that every run measures at exactly the built scale.
    """
    from safeharbor.referrals.models import Referral

    built_at = datetime.datetime.fromisoformat(meta["built_at"])
    made, _by_model = Referral.objects.filter(created_at__gt=built_at).delete()
    events = trim_audit_trail(meta["audit_seq"], meta["audit_hash"])
    return made, events


def _cache_problem(scale: Scale) -> str | None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from safeharbor.referrals.models import Referral
    from safeharbor.youth.models import Youth

    meta = read_meta()
    if meta is None:
        return "no build marker"
    if meta.get("fingerprint") != _fingerprint(scale):
        return "built by other code or at another scale"
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "unapplied migrations"
    made, events = remove_earlier_runs(meta)
    if made or events:
        log(f"removed {made} rows and {events} audit events that earlier runs wrote")
    if Youth.objects.count() != scale.youth:
        return "youth count differs"
    if Referral.objects.count() != scale.referrals:
        return "referral count differs"
    return None


def prepare_database(config: dict[str, Any], scale: Scale, rebuild: bool) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from safeharbor.audit.models import AuditChainHead

    hidden = ("fingerprint", "audit_seq", "audit_hash")
    if not rebuild and database_exists(config):
        problem = _cache_problem(scale)
        if problem is None:
            meta = read_meta() or {}
            log(f"reusing the database built {meta.get('built_at')}")
            return {"cached": True, **{k: v for k, v in meta.items() if k not in hidden}}
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
    head = AuditChainHead.objects.get(pk=1)
    meta = {
        "fingerprint": _fingerprint(scale),
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds"),
        "build_seconds": round(time.perf_counter() - started, 1),
        "steps_seconds": steps,
        "audit_seq": head.seq,
        "audit_hash": head.hash,
    }
    write_meta(meta)
    return {"cached": False, **{k: v for k, v in meta.items() if k not in hidden}}


# --------------------------------------------------------------------------- building the data

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

_NOTES = (
    "Would like a counsellor who speaks Spanish.",
    "Prefers appointments after school, from 4 pm.",
    "Has a court date next month and would like help before then.",
    "Asked for a worker who has supported survivors before.",
)
# (status, weight) by the referral's age: recent ones wait or are under way; old ones closed.
_RECENT = (("requested", 55), ("received", 20), ("accepted", 15), ("rejected", 5), ("draft", 5))
_MONTH = (
    ("requested", 4),
    ("received", 3),
    ("accepted", 15),
    ("in-progress", 25),
    ("on-hold", 5),
    ("completed", 24),
    ("rejected", 12),
    ("cancelled", 6),
    ("failed", 3),
    ("draft", 2),
    ("entered-in-error", 1),
)
_OLD = (
    ("completed", 600),
    ("rejected", 150),
    ("cancelled", 100),
    ("failed", 70),
    ("in-progress", 30),
    ("on-hold", 10),
    ("accepted", 10),
    ("requested", 5),
    ("received", 5),
    ("draft", 10),
    ("entered-in-error", 10),
)
_REASONS = {
    "rejected": ("Full for this age group until next month.", "Serves ages 18 to 24 only."),
    "on-hold": ("Waiting for a place in the next group to open.",),
    "cancelled": ("The youth decided not to go ahead for now.", "The youth moved away."),
    "failed": ("Could not reach the youth after three tries.",),
    "entered-in-error": ("Sent for the wrong youth.",),
}
_OUTCOMES = {
    "completed": ("got_help",) * 7 + ("referred_elsewhere",) * 2 + ("declined",),
    "rejected": ("not_eligible", "no_capacity", "no_capacity"),
    "cancelled": ("declined", "referred_elsewhere"),
    "failed": ("could_not_contact",),
}
_UNDER_WAY = {"accepted", "in-progress", "on-hold", "completed", "failed"}


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([s for s, _w in table], weights=[w for _s, w in table])[0]


def _status_for(rng: random.Random, age: datetime.timedelta, on_platform: bool) -> str:
    if age < 2 * DAY:
        status = _weighted(rng, _RECENT)
    elif age < 30 * DAY:
        status = _weighted(rng, _MONTH)
    else:
        status = _weighted(rng, _OLD)
    if status == "received" and not on_platform:
        return "requested"  # only the service's own staff record "received"
    return status


def build(scale: Scale) -> dict[str, float]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from safeharbor.access.choices import Category
    from safeharbor.accounts.choices import AgencyKind, Role
    from safeharbor.accounts.models import Agency, Membership, User
    from safeharbor.core import clock
    from safeharbor.core.crypto import blind_index
    from safeharbor.core.demo.people import PeopleGenerator
    from safeharbor.directory.demo import KINDS, seed_directory
    from safeharbor.directory.models import Organization, Service
    from safeharbor.referrals.models import Referral, ReferralEvent
    from safeharbor.youth.choices import TeamRole
    from safeharbor.youth.models import CareTeamMember, ConsentToShare, Youth

    rng = random.Random(SEED)
    now = clock.now()
    today = clock.today()
    people = PeopleGenerator(SEED, today)
    steps: dict[str, float] = {}

    with build_step(steps, "directory", log):
        seed_directory(seed=SEED, services=scale.services)

    # Agencies and staff.
    county = Agency.objects.create(name=REFERRING, kind=AgencyKind.CHILD_WELFARE, county="Harbor")
    probation = Agency.objects.create(name=PROBATION, kind=AgencyKind.PROBATION, county="Valley")
    clinic = Agency.objects.create(name=CLINIC, kind=AgencyKind.HEALTH, county="Harbor")
    kinds = (AgencyKind.ADVOCACY, AgencyKind.SHELTER, AgencyKind.HEALTH, AgencyKind.EDUCATION)
    others = [
        Agency.objects.create(name=name, kind=kinds[index % len(kinds)], county="Harbor")
        for index, name in enumerate(OTHER_RECEIVERS)
    ]
    county_youth = round(scale.youth * scale.county_share)
    county_workers = max(1, math.ceil(county_youth / scale.caseload))
    probation_workers = max(1, math.ceil((scale.youth - county_youth) / scale.caseload))
    plan: list[tuple[str, Agency, str]] = [
        (f"cw{i:03d}", county, Role.CASEWORKER) for i in range(1, county_workers + 1)
    ]
    plan.append(("supervisor", county, Role.SUPERVISOR))
    plan += [(f"po{i:03d}", probation, Role.CASEWORKER) for i in range(1, probation_workers + 1)]
    plan += [(f"clin{i:02d}", clinic, Role.CLINICIAN) for i in range(1, scale.clinicians + 1)]
    for index, agency in enumerate(others):
        plan += [(f"staff{index}_{k}", agency, Role.CASEWORKER) for k in range(3)]
    password = make_password("bench-only-password-not-used")
    User.objects.bulk_create(
        User(
            username=u,
            first_name=u.title(),
            last_name="Bench",
            email=f"{u}@bench.invalid",
            password=password,
        )
        for u, _a, _r in plan
    )
    ids = dict(User.objects.values_list("username", "id"))
    Membership.objects.bulk_create(Membership(user_id=ids[u], agency=a, role=r) for u, a, r in plan)
    staff_of: dict[int, list[int]] = {}
    for u, a, r in plan:
        if r != Role.SUPERVISOR:
            staff_of.setdefault(a.pk, []).append(ids[u])
    county_cw = [ids[f"cw{i:03d}"] for i in range(1, county_workers + 1)]
    probation_cw = [ids[f"po{i:03d}"] for i in range(1, probation_workers + 1)]
    label_of = {ids[u]: f"{u.title()} Bench, {a.name}, {u}@bench.invalid" for u, a, _r in plan}

    # The receiving agencies' organisations in the directory.
    receivers = [clinic, *others]
    organizations = list(
        Organization.objects.filter(services__status="active").distinct().order_by("name", "pk")
    )
    if len(organizations) < len(receivers) + 5:
        raise SystemExit("the directory has too few organisations for the receiving agencies")
    for agency, organization in zip(receivers, organizations, strict=False):
        Organization.objects.filter(pk=organization.pk).update(name=agency.name, agency=agency)
    active = list(
        Service.objects.filter(status="active")
        .select_related("organization")
        .order_by("name", "pk")
    )
    services_of: dict[int | None, list[Service]] = {}
    for service in active:
        services_of.setdefault(service.organization.agency_id, []).append(service)
    need_of = {}
    for service in active:
        kind = next((k for k in KINDS if service.name.endswith(k.name)), None)
        need_of[service.pk] = kind.needs[0] if kind else "need-case-management"

    # Youth, with identifiers encrypted by the model fields, and their lead caseworkers.
    alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"
    numbers: set[str] = set()
    while len(numbers) < scale.youth:
        numbers.add("Y-" + "".join(rng.choice(alphabet) for _ in range(8)))
    youth: list[Youth] = []
    leads: list[int] = []
    for index, number in enumerate(sorted(numbers)):
        in_county = index < county_youth
        person = people.person()
        youth.append(
            Youth(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                record_number=number,
                owning_agency=county if in_county else probation,
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
                phone=person.phone,
                preferred_language=rng.choice(["en", "en", "es"]),
                county="Harbor",
                duplicate_index=blind_index(
                    person.given_name, person.family_name, person.date_of_birth.isoformat()
                ),
            )
        )
        leads.append(
            county_cw[index // scale.caseload]
            if in_county
            else probation_cw[(index - county_youth) // scale.caseload]
        )
    with build_step(steps, "youth", log), transaction.atomic():
        Youth.objects.bulk_create(youth, batch_size=1000)
        Youth.objects.update(created_at=now - 800 * DAY)
        CareTeamMember.objects.bulk_create(
            (
                CareTeamMember(
                    youth_id=y.pk,
                    user_id=lead,
                    team_role=TeamRole.LEAD,
                    starts_on=today - datetime.timedelta(days=rng.randint(60, 700)),
                )
                for y, lead in zip(youth, leads, strict=True)
            ),
            batch_size=2000,
        )

    # 20 referrals a youth, sent over two years, each with its history.
    created_field = Referral._meta.get_field("created_at")
    referred_to_clinic: set[uuid.UUID] = set()
    referrals: list[Referral] = []
    events: list[ReferralEvent] = []

    def flush() -> None:
        with transaction.atomic():
            Referral.objects.bulk_create(referrals, batch_size=2000)
            ReferralEvent.objects.bulk_create(events, batch_size=5000)
        referrals.clear()
        events.clear()

    def event(
        referral: Referral,
        at: datetime.datetime,
        actor: int,
        agency: int,
        from_status: str,
        to_status: str,
        **extra: str,
    ) -> None:
        events.append(
            ReferralEvent(
                referral=referral,
                at=at,
                actor_id=actor,
                actor_agency_id=agency,
                from_status=from_status,
                to_status=to_status,
                **extra,
            )
        )

    latest = now - 5 * datetime.timedelta(minutes=1)
    # Keep the referrals' own times (auto_now_add would stamp them all now).
    created_field.auto_now_add = False
    try:
        with build_step(steps, "referrals", log):
            for y, lead in zip(youth, leads, strict=True):
                referring = y.owning_agency_id
                for _ in range(scale.per_youth):
                    roll = rng.random()
                    if roll < scale.clinic_share:
                        receiving: Agency | None = clinic
                    elif roll < scale.on_platform_share:
                        receiving = rng.choice(others)
                    else:
                        receiving = None
                    service = rng.choice(services_of[receiving.pk if receiving else None])
                    age = datetime.timedelta(minutes=rng.randint(30, 730 * 24 * 60))
                    sent = now - age
                    status = _status_for(rng, age, receiving is not None)
                    answering = staff_of[receiving.pk] if receiving else [lead]
                    answerer = rng.choice(answering)
                    answer_agency = receiving.pk if receiving else referring
                    accepted = None
                    if status in _UNDER_WAY:
                        # Seven in ten services take a referral on within 48 hours.
                        hours = rng.uniform(1, 48) if rng.random() < 0.7 else rng.uniform(48, 120)
                        accepted = min(sent + hours * HOUR, latest)
                    closed = None
                    if status in ("completed", "failed"):
                        assert accepted is not None  # noqa: S101  (set just above)
                        closed = min(accepted + rng.uniform(2, 60) * DAY, latest)
                    elif status in ("rejected", "cancelled", "entered-in-error"):
                        closed = min(sent + rng.uniform(1, 120) * HOUR, latest)
                    outcome = rng.choice(_OUTCOMES[status]) if status in _OUTCOMES else ""
                    reason = rng.choice(_REASONS[status]) if status in _REASONS else ""
                    outcome_note = (
                        "Attended the sessions and has a plan to keep going."
                        if outcome == "got_help" and rng.random() < 0.3
                        else ""
                    )
                    seen = None
                    if closed is not None and rng.random() < 0.95:
                        seen = min(closed + DAY, latest)
                    if receiving is clinic:
                        referred_to_clinic.add(y.pk)
                    referral = Referral(
                        id=uuid.UUID(int=rng.getrandbits(128), version=4),
                        youth_id=y.pk,
                        service=service,
                        service_name=service.name,
                        organization_name=service.organization.name,
                        referring_agency_id=referring,
                        created_by_id=lead,
                        receiving_agency=receiving,
                        need=need_of[service.pk],
                        priority=rng.choice(["routine"] * 6 + ["urgent"] * 3 + ["asap"]),
                        note=rng.choice(_NOTES) if rng.random() < 0.6 else "",
                        callback=label_of[lead],
                        status=status,
                        status_reason=reason,
                        outcome=outcome,
                        outcome_note=outcome_note,
                        sent_at=None if status == "draft" else sent,
                        accepted_at=accepted,
                        closed_at=closed,
                        outcome_seen_at=seen,
                        created_at=sent,
                    )
                    referrals.append(referral)
                    first = "draft" if status == "draft" else "requested"
                    event(referral, sent, lead, referring, "", first)
                    previous = first
                    if status == "received" or (
                        receiving is not None and accepted is not None and rng.random() < 0.6
                    ):
                        received_at = sent + rng.uniform(0.2, 1) * (
                            (accepted - sent) if accepted else min(age, 24 * HOUR)
                        )
                        event(referral, received_at, answerer, answer_agency, previous, "received")
                        previous = "received"
                    if accepted is not None:
                        event(referral, accepted, answerer, answer_agency, previous, "accepted")
                        previous = "accepted"
                        if status in ("in-progress", "on-hold") or (
                            status == "completed" and rng.random() < 0.5
                        ):
                            started = min(accepted + rng.uniform(1, 72) * HOUR, latest)
                            event(
                                referral, started, answerer, answer_agency, previous, "in-progress"
                            )
                            previous = "in-progress"
                        if status == "on-hold":
                            held = min(accepted + rng.uniform(3, 10) * DAY, latest)
                            event(
                                referral,
                                held,
                                answerer,
                                answer_agency,
                                previous,
                                "on-hold",
                                reason=reason,
                            )
                    if closed is not None:
                        by_referrer = status in ("cancelled", "entered-in-error")
                        event(
                            referral,
                            closed,
                            lead if by_referrer else answerer,
                            referring if by_referrer else answer_agency,
                            previous,
                            status,
                            reason=reason,
                            outcome=outcome,
                            note=outcome_note,
                        )
                if len(referrals) >= 20_000:
                    flush()
            flush()
    finally:
        created_field.auto_now_add = True

    # Live consents naming the clinic for identity and referrals: three in ten of its youth.
    consented = sorted(y for y in referred_to_clinic if rng.random() < scale.consent_share)
    lead_of = {y.pk: lead for y, lead in zip(youth, leads, strict=True)}
    with build_step(steps, "consents", log), transaction.atomic():
        ConsentToShare.objects.bulk_create(
            (
                ConsentToShare(
                    youth_id=youth_id,
                    signer_kind="youth",
                    signer_name="Signed by the youth at the referral meeting",
                    recipient_agency=clinic,
                    categories=[Category.IDENTITY, Category.REFERRALS],
                    purpose="Referral to the clinic",
                    valid_from=today - datetime.timedelta(days=rng.randint(1, 300)),
                    expires_on=today + datetime.timedelta(days=rng.randint(30, 365)),
                    recorded_by_id=lead_of[youth_id],
                )
                for youth_id in consented
            ),
            batch_size=2000,
        )
    log(
        f"{len(youth)} youth, {Referral.objects.count():,} referrals "
        f"({Referral.objects.filter(receiving_agency=clinic).count():,} to the clinic), "
        f"{ReferralEvent.objects.count():,} events, {len(consented)} consents to the clinic"
    )
    return steps


# --------------------------------------------------------------------------- measuring


def time_calls(
    call: Callable[[int], Any], requests: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Wall time and this process's CPU time of each call, in ms. On a shared machine the wall
    time includes waiting for a core; the CPU time does not (nor the PostgreSQL server's own
    work, which runs in another process)."""
    wall, cpu = [], []
    for i in range(warmup + requests):
        c0, t0 = time.process_time(), time.perf_counter()
        call(i)
        elapsed, used = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        if i >= warmup:
            wall.append(elapsed)
            cpu.append(used)
    return wall, cpu


def get_ok(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, not 200")
    return response


@contextlib.contextmanager
def spans_of_sql() -> Iterator[list[tuple[float, str]]]:
    """Every statement run inside, with its time in ms."""
    from django.db import connection

    spans: list[tuple[float, str]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spans.append(((time.perf_counter() - t0) * 1000, sql))

    with connection.execute_wrapper(wrapper):
        yield spans


def query_profile(run: Callable[[], Any], repeat: int = 5) -> dict[str, Any]:
    """Median of ``repeat`` runs: query count, time in SQL, the slowest statement."""
    runs: list[tuple[float, float, int, float, str]] = []
    for _ in range(repeat):
        with spans_of_sql() as spans:
            t0 = time.perf_counter()
            run()
            total = (time.perf_counter() - t0) * 1000
        slowest = max(spans, default=(0.0, ""))
        runs.append((total, sum(t for t, _ in spans), len(spans), *slowest))
    runs.sort()
    total, sql_ms, count, slowest_ms, slowest_sql = runs[len(runs) // 2]
    return {
        "queries": count,
        "profile_total_ms": round(total, 2),
        "sql_ms": round(sql_ms, 2),
        "slowest_ms": round(slowest_ms, 2),
        "slowest_sql": " ".join(slowest_sql.split())[:400],
    }


def measure_pages(scale: Scale) -> dict[str, Any]:
    from safeharbor.accounts.models import Agency, User
    from safeharbor.core import clock
    from safeharbor.referrals import deadlines, workflow
    from safeharbor.referrals.models import Referral
    from safeharbor.youth.models import Youth

    clinic = Agency.objects.get(name=CLINIC)
    clinician = User.objects.get(username="clin01")
    supervisor = User.objects.get(username="supervisor")
    worker = User.objects.get(username="cw001")
    to_clinic = Referral.objects.filter(receiving_agency=clinic)
    open_count = to_clinic.filter(status__in=sorted(workflow.OPEN)).count()
    waiting_count = (
        Referral.objects.filter(deadlines.waiting_q(clock.now()))
        .filter(referring_agency_id=supervisor.agency_id_or_none)
        .count()
    )
    # Referrals the clinic has already opened (opening a sent one records "received", a write).
    shown = list(
        to_clinic.exclude(
            status__in=[
                workflow.Status.DRAFT,
                workflow.Status.REQUESTED,
                workflow.Status.ENTERED_IN_ERROR,
            ]
        )
        .order_by("-sent_at")
        .values_list("pk", flat=True)[:20]
    )
    caseload = list(
        Youth.objects.filter(care_team__user=worker)
        .order_by("record_number")
        .values_list("pk", flat=True)[:20]
    )
    per_youth = Referral.objects.filter(youth_id__in=caseload).count() / max(1, len(caseload))
    clin = verified_client(clinician)
    sup = verified_client(supervisor)
    cw = verified_client(worker)
    endpoints: list[tuple[str, str, Any, list[str]]] = [
        (
            "inbox",
            f"Inbox of the clinic ({to_clinic.count():,} referrals, {open_count:,} open), "
            "open, page 1, as a clinician",
            clin,
            ["/referrals/inbox/"],
        ),
        (
            "detail",
            "A referral's page, as the receiving clinician",
            clin,
            [f"/referrals/{pk}/" for pk in shown],
        ),
        (
            "youth_page",
            f"Youth page with its referrals ({per_youth:.0f} a youth), as the lead caseworker",
            cw,
            [f"/youth/{pk}/" for pk in caseload],
        ),
        (
            "waiting",
            f"Waiting too long, the supervisor's list ({waiting_count:,} referrals), page 1",
            sup,
            ["/referrals/?scope=waiting"],
        ),
    ]
    results: dict[str, Any] = {}
    for key, label, client, urls in endpoints:
        t0 = time.perf_counter()

        def get(i: int = 0, client: Any = client, urls: list[str] = urls) -> Any:
            return get_ok(client, urls[i % len(urls)])

        wall, cpu = time_calls(get, scale.requests, scale.warmup)
        stats = summary(wall)
        profile = query_profile(get)
        results[key] = {
            "label": label,
            "target_ms": TARGET_PAGE_MS,
            **stats,
            "cpu_p95": summary(cpu)["p95"],
            **profile,
            "url": urls[0],
        }
        log(
            f"{key}: p50 {stats['p50']} p95 {stats['p95']} max {stats['max']} ms, "
            f"{profile['queries']} queries taking {profile['sql_ms']} ms "
            f"({time.perf_counter() - t0:.1f} s)"
        )
    return results


def measure_writes(scale: Scale) -> dict[str, Any]:
    from safeharbor.accounts.models import Agency, User
    from safeharbor.directory.models import Service
    from safeharbor.referrals import services
    from safeharbor.referrals.choices import Status
    from safeharbor.youth.models import Youth

    clinic = Agency.objects.get(name=CLINIC)
    clinician = User.objects.get(username="clin01")
    worker = User.objects.get(username="cw001")
    caseload = list(
        Youth.objects.filter(care_team__user=worker)
        .select_related("owning_agency")
        .order_by("record_number")
    )
    offered = list(
        Service.objects.filter(organization__agency=clinic, status="active")
        .select_related("organization")
        .order_by("name")
    )
    rng = random.Random(SEED + 1)
    created = []

    def create(i: int) -> Any:
        return services.referral_create(
            actor=worker,
            youth=caseload[i % len(caseload)],
            service=offered[i % len(offered)],
            need="need-counseling",
            priority=rng.choice(["routine", "urgent"]),
            note=rng.choice(_NOTES),
            callback="Cw001 Bench, Harbor County Children's Services, cw001@bench.invalid",
        )

    results: dict[str, Any] = {}
    wall, cpu = time_calls(lambda i: created.append(create(i)), scale.requests, scale.warmup)
    profile = query_profile(lambda: created.append(create(len(created))))
    results["create"] = {
        "label": "Create a referral (service call: policy, insert, history, audit)",
        "target_ms": TARGET_WRITE_MS,
        **summary(wall),
        "cpu_p95": summary(cpu)["p95"],
        **profile,
    }
    pending = list(created)

    def accept(_i: int = 0) -> Any:
        return services.referral_move(
            actor=clinician, referral=pending.pop(0), to_status=Status.ACCEPTED
        )

    wall, cpu = time_calls(accept, scale.requests, scale.warmup)
    profile = query_profile(accept)
    results["accept"] = {
        "label": "Accept a referral (service call: row lock, policy, history, audit)",
        "target_ms": TARGET_WRITE_MS,
        **summary(wall),
        "cpu_p95": summary(cpu)["p95"],
        **profile,
    }
    for key in ("create", "accept"):
        m = results[key]
        log(f"{key}: p50 {m['p50']} p95 {m['p95']} max {m['max']} ms, {m['queries']} queries")
    return results


def database_facts(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from safeharbor.audit.models import AuditEvent
    from safeharbor.referrals.models import Referral, ReferralEvent
    from safeharbor.youth.models import ConsentToShare, Youth

    facts: dict[str, Any] = {
        "vendor": connection.vendor,
        "youth": Youth.objects.count(),
        "referrals": Referral.objects.count(),
        "to_clinic": Referral.objects.filter(receiving_agency__name=CLINIC).count(),
        "referral_events": ReferralEvent.objects.count(),
        "consents": ConsentToShare.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('server_version'), pg_database_size(current_database()), "
                "current_setting('shared_buffers'), current_setting('fsync'), "
                "current_setting('synchronous_commit')"
            )
            version, size, shared_buffers, fsync, sync_commit = cursor.fetchone()
            facts.update(
                version=f"PostgreSQL {version}",
                size_mb=round(size / 2**20, 1),
                settings=f"shared_buffers={shared_buffers}, fsync={fsync}, "
                f"synchronous_commit={sync_commit}",
            )
        else:
            cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            size = sum(
                Path(config["NAME"] + s).stat().st_size
                for s in ("", "-wal")
                if Path(config["NAME"] + s).exists()
            )
            facts.update(
                version=f"SQLite {version}",
                size_mb=round(size / 2**20, 1),
                settings=f"journal_mode={journal}, synchronous=NORMAL",
            )
    facts["summary"] = (
        f"{facts['youth']:,} youth, {facts['referrals']:,} referrals "
        f"({facts['to_clinic']:,} to the measured agency), "
        f"{facts['referral_events']:,} history events, {facts['consents']:,} consents, "
        f"{facts['audit_events']:,} audit events, {facts['size_mb']} MB"
    )
    return facts


def metrics(measured: dict[str, Any], build_info: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, m in measured.items():
        rows.append(
            {
                "key": key,
                "label": m["label"],
                "value": m["p95"],
                "unit": "ms",
                "stat": "p95",
                "target": m["target_ms"],
                "detail": f"p50 {m['p50']}, max {m['max']}; CPU of this process p95 "
                f"{m['cpu_p95']}; {m['queries']} queries taking {m['sql_ms']} of "
                f"{m['profile_total_ms']} ms",
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
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or NAME).splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scale, for a smoke run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    parser.add_argument("--requests", type=int, help="requests per measure (after warm-up)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=float(os.environ.get("BENCH_PATIENCE", 240)),
        help="seconds to wait for a quiet machine before measuring",
    )
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
    log(f"{facts['version']}: {facts['summary']}")
    waited = wait_for_quiet(threshold=1.5, patience_s=args.quiet_wait, log=log)
    load_before = os.getloadavg()
    measure_started = time.perf_counter()
    measured = {**measure_pages(scale), **measure_writes(scale)}
    measure_seconds = round(time.perf_counter() - measure_started, 1)
    load_after = os.getloadavg()
    meta = read_meta()
    if meta is not None:
        remove_earlier_runs(meta)  # leave the database at its built scale
    result = {
        "benchmark": NAME,
        "title": TITLE,
        "quick": args.quick,
        "scale": asdict(scale),
        "database": facts,
        "build": build_info,
        "measured": measured,
        "measure_seconds": measure_seconds,
        "waited_for_quiet_s": waited,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "total_seconds": round(time.perf_counter() - started, 1),
        "metrics": metrics(measured, build_info),
    }
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
