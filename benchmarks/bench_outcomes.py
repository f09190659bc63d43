"""Outcomes benchmark: program dashboard and funder reports at 100,000 youth, 5,000,000 services
delivered and 1,000,000 outcome observations.

Targets (the outcomes issue): a program dashboard at most 1 s and a county funder report at most
3 s on PostgreSQL (a read replica may serve them), at most 3 s and 10 s on SQLite. Measured, for
the last twelve full months before the build: the program dashboard's figures
(``effectiveness.all_figures``) and its page, the county report (``reports.county_report``) and
its page; without a target of their own, a program's funder report (``reports.funder_report``),
its page and its CSV and PDF downloads. Pages and downloads go through the Django test client as
a verified supervisor of the program's agency. These are seconds-long operations: each is run a
handful of times after a warm-up, the rows round robin, and p50/p95/max reported with this
process's CPU time and the time spent executing SQL.

Run through ``make bench`` (``benchmarks/run.py --only outcomes``), or alone:

    DATABASE_URL=sqlite:////tmp/bench-outcomes.sqlite3 \
        .venv/bin/python benchmarks/bench_outcomes.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_outcomes \
        .venv/bin/python benchmarks/bench_outcomes.py

It prints one JSON object on stdout; progress goes to stderr. ``--quick`` runs a tenth of the
scale.

The data: 20 agencies in 3 counties (Harbor, Valley, Ridge; victim-service providers among them),
5 programs each, 100,000 youth owned by the agencies (identifiers encrypted by the real model
fields through ``bulk_create``), about 50 youth per caseworker. Each youth is enrolled in a
program of its own agency, one in five also in a program of another agency of its county, and some
of those who disengaged come back; enrolments start over three years and last months (exits with
their reasons, open ones still going), with the intake answers a funder asks for. The measured
program, "Safe Harbor Case Management" of Harbor County Children's Services, has 5,000 enrolled
youth. 5,000,000 services delivered fall inside the enrolments (in proportion to their length
and a per-youth intensity; types, minutes and mode weighted; 5% recorded without a program);
1,000,000 observations of the shipped measures at intake and reviews (stage of change 1..5
drifting upwards, placement moves, attendance, school, police contacts, arrests, relapse, lapse,
revictimisation; program completed at exit), one in ten with an encrypted note. For the measured
program's youth only, the other records its figures read: referrals sent by the agency (with
their history), contact attempts, missing-from-care episodes (before and during enrolment) and
screenings with the shipped instrument (scored by the real scoring engine). The bulk tables go
in through the model fields' own database preparation (``get_db_prep_value``: encrypted notes
are real ciphertext), by COPY on PostgreSQL and ``executemany`` on SQLite, in chronological
order; as pg_restore does, the two big tables' secondary indexes (and on PostgreSQL their foreign
keys) are dropped for the load and made again from their own definitions, so the schema ends as
migrated and every row is still checked against every constraint. The built database is
reused while its fingerprint (scale, ``BUILD_VERSION``, the keys, the migrations, the code that
shapes stored bytes) and row counts match; the audit events earlier runs wrote are removed first.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import hashlib
import itertools
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import (  # noqa: E402  (after the project root is on sys.path)
    build_step,
    database_exists,
    db_config,
    drop_and_create,
    logger,
    read_meta,
    verified_client,
    wait_for_quiet,
    write_meta,
)
from benchmarks.common import (  # noqa: E402  (as above)
    summary as _summary,
)

summary = functools.partial(_summary, digits=3)
NAME = "outcomes"
TITLE = (
    "Outcomes: program dashboard and funder reports at 5,000,000 services and "
    "1,000,000 observations"
)
# Bump when the data that build() makes changes, so that cached databases are rebuilt.
BUILD_VERSION = 1
SEED = 2028
DEFAULT_URL = "sqlite:////tmp/bench-outcomes.sqlite3"
FINGERPRINTED_FILES = (
    "safeharbor/core/crypto.py",
    "safeharbor/core/fields.py",
    "safeharbor/core/demo/people.py",
    "safeharbor/outcomes/measures.py",
)
# Seconds, p95, by database vendor (the targets).
TARGETS = {
    "dashboard": {"sqlite": 3.0, "postgresql": 1.0},
    "dashboard_page": {"sqlite": 3.0, "postgresql": 1.0},
    "county_report": {"sqlite": 10.0, "postgresql": 3.0},
    "county_page": {"sqlite": 10.0, "postgresql": 3.0},
}
VENDOR_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
MEASURED_AGENCY = "Harbor County Children's Services"
MEASURED_PROGRAM = "Safe Harbor Case Management"
COUNTY = "Harbor"
YEARS = 3
DAYS = 365 * YEARS  # day 0 is DAYS days before the build; day DAYS is the build's day
BATCH = 250_000  # rows per transaction in the bulk loads

# (name, kind, county, victim-service provider, share of youth)
AGENCIES = (
    (MEASURED_AGENCY, "child_welfare", "Harbor", False, 4.0),
    ("Harbor County Probation", "probation", "Harbor", False, 2.0),
    ("Bayside Youth Clinic", "health", "Harbor", False, 1.2),
    ("Lighthouse Advocates", "advocacy", "Harbor", True, 1.0),
    ("Safe Passage Shelter", "shelter", "Harbor", True, 1.0),
    ("Harbor Unified School District", "education", "Harbor", False, 0.6),
    ("Harborlight Youth Services", "advocacy", "Harbor", False, 1.0),
    ("Harbor Juvenile Court", "court", "Harbor", False, 0.6),
    ("Valley County Children's Services", "child_welfare", "Valley", False, 3.0),
    ("Valley County Probation", "probation", "Valley", False, 2.0),
    ("Valley Family Health", "health", "Valley", False, 1.2),
    ("New Dawn Advocates", "advocacy", "Valley", True, 1.0),
    ("Open Door Youth Shelter", "shelter", "Valley", False, 1.0),
    ("Valley Youth Court Services", "court", "Valley", False, 0.6),
    ("Ridge County Children's Services", "child_welfare", "Ridge", False, 3.0),
    ("Ridge County Probation", "probation", "Ridge", False, 2.0),
    ("Ridge Community Clinic", "health", "Ridge", False, 1.2),
    ("Northstar Survivor Alliance", "advocacy", "Ridge", True, 1.0),
    ("Wildflower Youth Housing", "shelter", "Ridge", False, 1.0),
    ("Ridge Learning Center", "education", "Ridge", False, 0.6),
)
# Five programs an agency runs: (name, kind); the first takes the largest share of its youth.
PROGRAMS = (
    (MEASURED_PROGRAM, "case_management", 0.4),
    ("Survivor Mentoring", "mentoring", 0.2),
    ("Youth Drop-in Centre", "drop_in", 0.15),
    ("Trauma Therapy", "clinical", 0.15),
    ("Prevention in Schools", "prevention", 0.1),
)
SHELTER_PROGRAM = ("Emergency Beds", "residential")
ROLE_OF_KIND = {
    "health": "clinician",
    "advocacy": "advocate",
    "shelter": "advocate",
}


@dataclass(frozen=True)
class Scale:
    youth: int
    services: int
    observations: int
    measured_youth: int
    requests: int
    warmup: int
    caseload: int = 50
    second_agency_share: float = 0.2

    def fingerprint(self) -> list[int | float]:
        return [
            self.youth,
            self.services,
            self.observations,
            self.measured_youth,
            self.caseload,
            self.second_agency_share,
        ]


FULL = Scale(
    youth=100_000,
    services=5_000_000,
    observations=1_000_000,
    measured_youth=5_000,
    requests=5,
    warmup=1,
)
QUICK = Scale(
    youth=10_000,
    services=500_000,
    observations=100_000,
    measured_youth=500,
    requests=5,
    warmup=1,
)


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
        "scale": scale.fingerprint(),
        "files": files,
        "keys": keys,
        "migrations": sorted(f"{app}.{name}" for app, name in loader.disk_migrations),
    }


def remove_earlier_runs(meta: dict[str, Any]) -> int:
    """Remove the audit events earlier runs wrote (page views, exports), so that every run
    measures at exactly the built scale. The audit trail is append-only by trigger; in this
    throw-away database the triggers are lifted for the delete and put back, as the project's
    own ``flush`` command does for tests."""
    from django.db import connection, transaction

    from safeharbor.audit import triggers
    from safeharbor.audit.models import AuditChainHead, AuditEvent

    extra = AuditEvent.objects.filter(seq__gt=meta["audit_seq"])
    events = extra.count()
    if events:
        with transaction.atomic():
            triggers.remove(connection)
            extra._raw_delete(extra.db)
            triggers.install(connection)
            AuditChainHead.objects.filter(pk=1).update(
                seq=meta["audit_seq"], hash=meta["audit_hash"]
            )
    return events


def _table_counts() -> dict[str, int]:
    from safeharbor.contact.models import ContactAttempt, MissingEpisode
    from safeharbor.outcomes.models import Enrolment, OutcomeObservation, ServiceDelivery
    from safeharbor.referrals.models import Referral
    from safeharbor.screening.models import Screening
    from safeharbor.youth.models import Youth

    return {
        "youth": Youth.objects.count(),
        "enrolments": Enrolment.objects.count(),
        "services": ServiceDelivery.objects.count(),
        "observations": OutcomeObservation.objects.count(),
        "referrals": Referral.objects.count(),
        "contact_attempts": ContactAttempt.objects.count(),
        "missing_episodes": MissingEpisode.objects.count(),
        "screenings": Screening.objects.count(),
    }


def _cache_problem(scale: Scale) -> str | None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    meta = read_meta()
    if meta is None:
        return "no build marker"
    if meta.get("fingerprint") != _fingerprint(scale):
        return "built by other code or at another scale"
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "unapplied migrations"
    events = remove_earlier_runs(meta)
    if events:
        log(f"removed {events} audit events that earlier runs wrote")
    counts = _table_counts()
    if counts != meta.get("counts"):
        return f"row counts differ ({counts} against {meta.get('counts')})"
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
        t0 = time.perf_counter()
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")  # what autovacuum would do after a bulk load
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        steps["analyze"] = round(time.perf_counter() - t0, 1)
    head = AuditChainHead.objects.get(pk=1)
    meta = {
        "fingerprint": _fingerprint(scale),
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "built_on": _today().isoformat(),
        "build_seconds": round(time.perf_counter() - started, 1),
        "steps_seconds": steps,
        "counts": _table_counts(),
        "audit_seq": head.seq,
        "audit_hash": head.hash,
    }
    write_meta(meta)
    return {"cached": False, **{k: v for k, v in meta.items() if k not in hidden}}


# --------------------------------------------------------------------------- bulk loading


def _today() -> datetime.date:
    from safeharbor.core import clock

    return clock.today()


def prepper(model: Any, name: str) -> Callable[[Any], Any]:
    """The model field's own conversion of a value for the database (``get_db_prep_value``:
    an encrypted field encrypts, a UUID becomes what this database stores), remembered for
    repeated values; an encrypted value is never remembered (each gets its own nonce)."""
    from django.db import connection

    from safeharbor.core.fields import EncryptedMixin

    model_field = model._meta.get_field(name)
    if isinstance(model_field, EncryptedMixin):
        return lambda value: model_field.get_db_prep_value(value, connection)
    cache: dict[Any, Any] = {}

    def prep(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            cache[value] = prepared = model_field.get_db_prep_value(value, connection)
            return prepared

    return prep


def load_rows(model: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows of database-ready values (``prepper``) into the model's table: COPY on
    PostgreSQL, ``executemany`` on SQLite, ``BATCH`` rows a transaction. The database checks
    every constraint and foreign key as for any insert."""
    from django.db import connection, transaction

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    connection.ensure_connection()
    raw = connection.connection
    total = 0
    iterator = iter(rows)
    while True:
        batch = list(itertools.islice(iterator, BATCH))
        if not batch:
            return total
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(names))
                insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                raw.executemany(insert, batch)
        total += len(batch)


@contextlib.contextmanager
def indexes_deferred(model: Any) -> Iterator[None]:
    """Bulk-load practice (as pg_restore does it): the table's secondary indexes, and on
    PostgreSQL its foreign keys, are dropped for the load and made again afterwards from their
    own definitions, so the schema ends exactly as migrated. Re-adding a foreign key checks every
    row (SQLite checks its foreign keys row by row during the load instead)."""
    from django.db import connection

    quote = connection.ops.quote_name
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [table],
            )
            foreign_keys = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) "
                "ORDER BY indexname",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL ORDER BY name",
                [table],
            )
            foreign_keys, indexes = [], cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)
            for name, definition in foreign_keys:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )


# --------------------------------------------------------------------------- building the data


@dataclass
class Staff:
    workers: dict[int, list[int]] = field(default_factory=dict)  # agency index -> user ids
    supervisor: int = 0


@dataclass
class Plan:
    """What build() made, as the later steps need it."""

    today: datetime.date
    now: datetime.datetime
    zone: Any  # the deployment's time zone, where dates are read
    agency_ids: list[int]
    program_ids: list[int]  # program index -> id
    program_agency: list[int]  # program index -> agency index
    staff: Staff
    youth_ids: list[uuid.UUID]
    # Enrolments: (youth index, program index, first day, last day or None, exit reason)
    enrolments: list[tuple[int, int, int, int | None, str]]
    measured_program: int


def _weighted(rng: random.Random, table: Sequence[tuple[str, float]]) -> str:
    return rng.choices([code for code, _w in table], weights=[w for _c, w in table])[0]


_EXITS = (
    ("completed", 30),
    ("goals_met", 10),
    ("transferred", 8),
    ("moved", 7),
    ("declined", 12),
    ("lost_contact", 20),
    ("aged_out", 6),
    ("other", 7),
)
_TRAFFICKING = (("sex", 45), ("labor", 8), ("both", 5), ("at_risk", 30), ("unknown", 12))
_SOURCES = (
    ("child_welfare", 30),
    ("probation", 15),
    ("law_enforcement", 12),
    ("health", 8),
    ("school", 10),
    ("community", 8),
    ("hotline", 5),
    ("self", 7),
    ("other", 5),
)
_DISABILITY = (("yes", 18), ("no", 60), ("unknown", 22))
_SERVICE_TYPES = (
    ("case_management", 30),
    ("counseling", 15),
    ("crisis", 5),
    ("mentoring", 10),
    ("basic_needs", 8),
    ("transportation", 8),
    ("education", 6),
    ("housing", 4),
    ("shelter", 3),
    ("medical", 4),
    ("legal", 3),
    ("employment", 2),
    ("substance_use", 1),
    ("interpretation", 1),
)
_MINUTES = ((15, 10), (30, 25), (45, 15), (60, 25), (90, 10), (120, 10), (240, 5))
_OBSERVATION_NOTES = (
    "Youth set the goal together with the worker.",
    "Discussed at the team review; youth present.",
    "Youth said school feels safer this month.",
    "Foster parent reported the change; youth agreed.",
)
_CONTACT_NOTES = (
    "Youth sounded well; agreed to meet on Friday.",
    "Voicemail full.",
    "Talked through the safety plan.",
)
_OFF_PLATFORM = (
    "Coastal Legal Aid",
    "Harbor Food Bank",
    "County Workforce Center",
    "Bayview Dental Clinic",
    "Second Chance Tutoring",
)
_REFERRAL_STATUSES = (
    ("completed", 55),
    ("rejected", 12),
    ("cancelled", 8),
    ("failed", 5),
    ("in-progress", 8),
    ("accepted", 5),
    ("on-hold", 2),
    ("requested", 3),
    ("entered-in-error", 2),
)
_REFERRAL_OUTCOMES = {
    "completed": ("got_help",) * 7 + ("referred_elsewhere",) * 2 + ("declined",),
    "rejected": ("not_eligible", "no_capacity"),
    "cancelled": ("declined", "referred_elsewhere"),
    "failed": ("could_not_contact",),
}
_REFERRAL_REASONS = {
    "rejected": "Full for this age group until next month.",
    "on-hold": "Waiting for a place in the next group.",
    "cancelled": "The youth decided not to go ahead for now.",
    "failed": "Could not reach the youth after three tries.",
    "entered-in-error": "Sent for the wrong youth.",
}
_ACCEPTED = {"accepted", "in-progress", "on-hold", "completed", "failed"}


def build(scale: Scale) -> dict[str, float]:
    from django.db import connection, connections

    steps: dict[str, float] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")  # index builds, this session
        else:
            cursor.execute("PRAGMA cache_size = -1048576")  # 1 GiB, this connection only
    plan = _build_people(scale, steps)
    with build_step(steps, "services", log):
        _build_services(scale, plan)
    with build_step(steps, "observations", log):
        _build_observations(scale, plan)
    with build_step(steps, "measured_program_records", log):
        _build_measured_records(plan)
    connections.close_all()  # measure with the settings a deployment's connection has
    return steps


def _build_people(scale: Scale, steps: dict[str, float]) -> Plan:
    """Agencies, staff, programs, youth and enrolments."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from safeharbor.accounts.models import Agency, Membership, User
    from safeharbor.core import clock
    from safeharbor.core.crypto import blind_index
    from safeharbor.core.demo.people import PeopleGenerator
    from safeharbor.outcomes.models import Enrolment, FundingSource, Program
    from safeharbor.youth.choices import GenderIdentity, RaceEthnicity
    from safeharbor.youth.models import Youth

    rng = random.Random(SEED)
    today = clock.today()
    now = clock.now()
    zone = timezone.get_current_timezone()
    people = PeopleGenerator(SEED, today)
    day0 = today - datetime.timedelta(days=DAYS)

    Agency.objects.bulk_create(
        Agency(name=name, kind=kind, county=county, is_victim_service_provider=vsp)
        for name, kind, county, vsp, _share in AGENCIES
    )
    by_name = dict(Agency.objects.values_list("name", "id"))
    agency_ids = [by_name[a[0]] for a in AGENCIES]
    measured_agency = 0

    # How many youth each agency owns, and its caseworkers (about ``caseload`` youth each).
    shares = [a[4] for a in AGENCIES]
    owned = [math.floor(scale.youth * s / sum(shares)) for s in shares]
    owned[measured_agency] += scale.youth - sum(owned)
    if owned[measured_agency] < scale.measured_youth:
        raise SystemExit("the measured agency owns fewer youth than its program should enrol")
    plan_users: list[tuple[str, int, str]] = []
    for index, (_name, kind, _county, _vsp, _share) in enumerate(AGENCIES):
        role = ROLE_OF_KIND.get(kind, "caseworker")
        workers = max(2, math.ceil(owned[index] / scale.caseload))
        plan_users += [(f"a{index:02d}w{n:03d}", index, role) for n in range(1, workers + 1)]
        sup = "supervisor" if index == measured_agency else f"a{index:02d}sup"
        plan_users += [(sup, index, "supervisor"), (f"a{index:02d}analyst", index, "analyst")]
    password = make_password("bench-only-password-not-used")
    User.objects.bulk_create(
        User(
            username=u,
            first_name=u.title(),
            last_name="Bench",
            email=f"{u}@bench.invalid",
            password=password,
        )
        for u, _a, _r in plan_users
    )
    user_ids = dict(User.objects.values_list("username", "id"))
    Membership.objects.bulk_create(
        Membership(user_id=user_ids[u], agency_id=agency_ids[a], role=r) for u, a, r in plan_users
    )
    staff = Staff(supervisor=user_ids["supervisor"])
    for u, a, r in plan_users:
        if r not in ("supervisor", "analyst"):
            staff.workers.setdefault(a, []).append(user_ids[u])

    # Five programs an agency, started before the data's three years.
    programs: list[Program] = []
    program_agency: list[int] = []
    for index, (_name, kind, _county, _vsp, _share) in enumerate(AGENCIES):
        for p, (name, program_kind, _weight) in enumerate(PROGRAMS):
            if kind == "shelter" and p == 2:
                name, program_kind = SHELTER_PROGRAM
            programs.append(
                Program(
                    agency_id=agency_ids[index],
                    name=name,
                    kind=program_kind,
                    description=f"{name}, as run by {AGENCIES[index][0]}.",
                    starts_on=day0 - datetime.timedelta(days=400 + 30 * p),
                )
            )
            program_agency.append(index)
    Program.objects.bulk_create(programs)
    program_ids = [p.pk for p in programs]
    if any(pk is None for pk in program_ids):  # SQLite before 3.35 returns no ids
        ids_by_key = {
            (a, n): pk for a, n, pk in Program.objects.values_list("agency_id", "name", "pk")
        }
        program_ids = [ids_by_key[(p.agency_id, p.name)] for p in programs]
    measured_program = 0  # the measured agency's first program
    programs_of: dict[int, list[int]] = {}
    for i, a in enumerate(program_agency):
        programs_of.setdefault(a, []).append(i)
    weights = [w for _n, _k, w in PROGRAMS]
    county_agencies: dict[str, list[int]] = {}
    for index, agency in enumerate(AGENCIES):
        county_agencies.setdefault(agency[2], []).append(index)
    FundingSource.objects.bulk_create(
        [
            FundingSource(
                program_id=program_ids[measured_program],
                funder="Office for Victims of Crime",
                kind="federal",
                award_number="15POVC-BENCH-0001",
                starts_on=day0,
                ends_on=today + datetime.timedelta(days=365),
            ),
            FundingSource(
                program_id=program_ids[measured_program],
                funder="State CSEC Program",
                kind="state",
                award_number="CSEC-BENCH-22",
                starts_on=today - datetime.timedelta(days=500),
                ends_on=today + datetime.timedelta(days=200),
            ),
        ]
    )

    # Enrolments: each youth in a program of its own agency (the measured program's 5,000 among
    # the measured agency's youth), some in a second agency's program in the same county, some
    # back again after disengaging. Days count from day0.
    def span(mean: float) -> tuple[int, int | None, str]:
        start = rng.randint(0, DAYS - 7)
        end = start + 14 + int(rng.expovariate(1 / mean))
        if end >= DAYS:
            return start, None, ""
        return start, end, _weighted(rng, _EXITS)

    owners: list[int] = []
    for index, count in enumerate(owned):
        owners += [index] * count
    enrolments: list[tuple[int, int, int, int | None, str]] = []
    intake: list[tuple[str, str, str]] = []  # per youth: type, source, disability
    measured_left = scale.measured_youth
    for y, owner in enumerate(owners):
        intake.append(
            (_weighted(rng, _TRAFFICKING), _weighted(rng, _SOURCES), _weighted(rng, _DISABILITY))
        )
        if owner == measured_agency and measured_left > 0:
            program = programs_of[owner][0]
            measured_left -= 1
        elif owner == measured_agency:
            program = rng.choice(programs_of[owner][1:])
        else:
            program = rng.choices(programs_of[owner], weights=weights)[0]
        start, end, reason = span(240)
        enrolments.append((y, program, start, end, reason))
        if end is not None and reason in ("declined", "lost_contact") and rng.random() < 0.2:
            again = end + rng.randint(30, 120)
            if again < DAYS - 7:
                length = 14 + int(rng.expovariate(1 / 200))
                last = again + length
                if last >= DAYS:
                    enrolments.append((y, program, again, None, ""))
                else:
                    enrolments.append((y, program, again, last, _weighted(rng, _EXITS)))
        if rng.random() < scale.second_agency_share:
            county = AGENCIES[owner][2]
            other = rng.choice([a for a in county_agencies[county] if a != owner])
            start, end, reason = span(150)
            other_program = rng.choices(programs_of[other], weights=weights)[0]
            if other_program != measured_program:
                enrolments.append((y, other_program, start, end, reason))

    numbers: set[str] = set()
    alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"  # as youth.services: no vowels, no look-alikes
    while len(numbers) < scale.youth:
        numbers.add("Y-" + "".join(rng.choice(alphabet) for _ in range(8)))
    first_day = [DAYS] * scale.youth
    for y, _p, start, _e, _r in enrolments:
        first_day[y] = min(first_day[y], start)
    youth: list[Youth] = []
    for y, number in enumerate(sorted(numbers, key=lambda _n: rng.random())):
        person = people.person()
        owner = owners[y]
        created = datetime.datetime.combine(
            day0 + datetime.timedelta(days=first_day[y] - rng.randint(0, 20)),
            datetime.time(10, rng.randint(0, 59)),
            tzinfo=zone,
        )
        youth.append(
            Youth(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                record_number=number,
                owning_agency_id=agency_ids[owner],
                given_name=person.given_name,
                family_name=person.family_name,
                preferred_name=rng.choice(("", "", "", "", "", "", "", "", "Jay", "Lu")),
                date_of_birth=person.date_of_birth,
                phone=person.phone,
                address=person.address,
                gender_identity=rng.choice(GenderIdentity.values),
                preferred_language=rng.choice(["en", "en", "es"]),
                county=AGENCIES[owner][2],
                race_ethnicity=sorted(
                    rng.sample(RaceEthnicity.values[:-1], k=rng.choice([1, 1, 2]))
                ),
                duplicate_index=blind_index(
                    person.given_name, person.family_name, person.date_of_birth.isoformat()
                ),
                created_at=min(created, now),
                updated_at=min(created, now),
            )
        )
    created_field = Youth._meta.get_field("created_at")
    updated_field = Youth._meta.get_field("updated_at")
    with build_step(steps, "youth", log), transaction.atomic():
        # Keep the records' ages (auto_now_add would stamp them all now).
        created_field.auto_now_add = False
        updated_field.auto_now = False
        try:
            Youth.objects.bulk_create(youth, batch_size=2000)
        finally:
            created_field.auto_now_add = True
            updated_field.auto_now = True
    youth_ids = [y.pk for y in youth]
    del youth

    with build_step(steps, "enrolments", log):
        date_of = [day0 + datetime.timedelta(days=d) for d in range(DAYS + 1)]
        stamp = prepper(Enrolment, "created_at")
        prep_day = prepper(Enrolment, "starts_on")
        prep_youth = prepper(Enrolment, "youth")
        stamps = [
            stamp(datetime.datetime.combine(date_of[d], datetime.time(11), tzinfo=zone))
            for d in range(DAYS + 1)
        ]
        rows = []
        for y, p, start, end, reason in enrolments:
            kind, source, disability = intake[y]
            recorders = staff.workers[program_agency[p]]
            rows.append(
                (
                    prep_youth(youth_ids[y]),
                    program_ids[p],
                    prep_day(date_of[start]),
                    None if end is None else prep_day(date_of[end]),
                    reason,
                    kind,
                    source,
                    disability,
                    recorders[y % len(recorders)],
                    stamps[start],
                    stamps[end if end is not None else start],
                )
            )
        rows.sort(key=lambda row: (row[2], row[0]))  # in the order they were recorded
        load_rows(
            Enrolment,
            [
                "youth",
                "program",
                "starts_on",
                "ends_on",
                "exit_reason",
                "trafficking_type",
                "referral_source",
                "has_disability",
                "created_by",
                "created_at",
                "updated_at",
            ],
            rows,
        )
    log(
        f"{len(AGENCIES)} agencies, {len(plan_users)} staff, {len(programs)} programs, "
        f"{scale.youth} youth, {len(enrolments)} enrolments"
    )
    return Plan(
        today=today,
        now=now,
        zone=zone,
        agency_ids=agency_ids,
        program_ids=program_ids,
        program_agency=program_agency,
        staff=staff,
        youth_ids=youth_ids,
        enrolments=enrolments,
        measured_program=measured_program,
    )


def _arrays(plan: Plan) -> dict[str, Any]:
    """The enrolments as numpy arrays: youth, program, first and last day in view, agency."""
    import numpy as np

    youth = np.array([e[0] for e in plan.enrolments], dtype=np.int64)
    program = np.array([e[1] for e in plan.enrolments], dtype=np.int64)
    first = np.array([e[2] for e in plan.enrolments], dtype=np.int64)
    last = np.array([DAYS if e[3] is None else e[3] for e in plan.enrolments], dtype=np.int64)
    agency = np.array(plan.program_agency, dtype=np.int64)[program]
    # Each agency's workers, flattened: the workers of agency a are flat[start[a]:start[a]+n[a]].
    flat: list[int] = []
    start = np.zeros(len(plan.agency_ids), dtype=np.int64)
    count = np.zeros(len(plan.agency_ids), dtype=np.int64)
    for a in range(len(plan.agency_ids)):
        start[a] = len(flat)
        count[a] = len(plan.staff.workers[a])
        flat += plan.staff.workers[a]
    return {
        "youth": youth,
        "program": program,
        "first": first,
        "last": last,
        "agency": agency,
        "workers": np.array(flat, dtype=np.int64),
        "worker_start": start,
        "worker_count": count,
    }


def _providers(rng: Any, arrays: dict[str, Any], agency: Any) -> Any:
    """A worker of each row's agency, at random."""
    offset = (rng.random(len(agency)) * arrays["worker_count"][agency]).astype("int64")
    return arrays["workers"][arrays["worker_start"][agency] + offset]


def _choice(rng: Any, table: Sequence[tuple[Any, float]], size: int) -> Any:
    import numpy as np

    weights = np.array([w for _v, w in table], dtype=float)
    return rng.choice(len(table), size=size, p=weights / weights.sum())


def _build_services(scale: Scale, plan: Plan) -> None:
    """5,000,000 services inside the enrolments, in proportion to their length and a per-youth
    intensity, in the order they were delivered."""
    import numpy as np

    from safeharbor.outcomes.models import ServiceDelivery

    rng: Any = np.random.default_rng(SEED + 1)
    arrays = _arrays(plan)
    length = arrays["last"] - arrays["first"] + 1
    intensity = rng.gamma(2.0, 0.5, size=len(length))
    weights = length * intensity
    per_enrolment = rng.multinomial(scale.services, weights / weights.sum())
    which = np.repeat(np.arange(len(length)), per_enrolment)
    day = arrays["first"][which] + (rng.random(scale.services) * length[which]).astype(np.int64)
    order = np.argsort(day, kind="stable")
    which, day = which[order], day[order]
    program = arrays["program"][which]
    without_program = rng.random(scale.services) < 0.05
    provider = _providers(rng, arrays, arrays["agency"][which])
    kinds = _choice(rng, _SERVICE_TYPES, scale.services)
    minutes = np.array([m for m, _w in _MINUTES])[_choice(rng, _MINUTES, scale.services)]
    remote = rng.random(scale.services) < 0.22

    day0 = plan.today - datetime.timedelta(days=DAYS)
    prep_youth = prepper(ServiceDelivery, "youth")
    prep_day = prepper(ServiceDelivery, "delivered_on")
    prep_stamp = prepper(ServiceDelivery, "created_at")
    youth_db = [prep_youth(pk) for pk in plan.youth_ids]
    day_db = [prep_day(day0 + datetime.timedelta(days=d)) for d in range(DAYS + 1)]
    stamp_db = [
        prep_stamp(
            min(
                plan.now,
                datetime.datetime.combine(
                    day0 + datetime.timedelta(days=d), datetime.time(17, 30), tzinfo=plan.zone
                ),
            )
        )
        for d in range(DAYS + 1)
    ]
    type_codes = [code for code, _w in _SERVICE_TYPES]
    program_ids = plan.program_ids
    enrolment_youth = arrays["youth"]

    def rows() -> Iterator[tuple[Any, ...]]:
        for lo in range(0, scale.services, BATCH):
            hi = min(lo + BATCH, scale.services)
            ys = enrolment_youth[which[lo:hi]].tolist()
            ds = day[lo:hi].tolist()
            ps = program[lo:hi].tolist()
            nones = without_program[lo:hi].tolist()
            yield from zip(
                [youth_db[y] for y in ys],
                [None if none else program_ids[p] for p, none in zip(ps, nones, strict=True)],
                [type_codes[k] for k in kinds[lo:hi].tolist()],
                [day_db[d] for d in ds],
                minutes[lo:hi].tolist(),
                ["remote" if r else "in_person" for r in remote[lo:hi].tolist()],
                provider[lo:hi].tolist(),
                [stamp_db[d] for d in ds],
                strict=True,
            )

    with indexes_deferred(ServiceDelivery):
        count = load_rows(
            ServiceDelivery,
            [
                "youth",
                "program",
                "service_type",
                "delivered_on",
                "minutes",
                "mode",
                "provider",
                "created_at",
            ],
            rows(),
        )
    log(f"{count:,} services delivered")


def _build_observations(scale: Scale, plan: Plan) -> None:
    """1,000,000 observations at intake and reviews: three a review (stage of change, placement
    moves, and one of the others in turn; "program completed" at the exit review)."""
    import numpy as np

    from safeharbor.outcomes.models import OutcomeMeasure, OutcomeObservation

    rng: Any = np.random.default_rng(SEED + 2)
    arrays = _arrays(plan)
    codes = dict(OutcomeMeasure.objects.values_list("code", "pk"))
    length = arrays["last"] - arrays["first"] + 1
    reviews = scale.observations // 3
    extra = scale.observations - 3 * reviews
    per_enrolment = rng.multinomial(reviews, (length + 30) / (length + 30).sum())
    which = np.repeat(np.arange(len(length)), per_enrolment)
    offsets = np.cumsum(per_enrolment) - per_enrolment
    k = np.arange(reviews) - np.repeat(offsets, per_enrolment)  # 0 = intake
    m = per_enrolment[which]
    # Reviews spread evenly from the start to the last day in view (the exit, when closed).
    day = arrays["first"][which] + np.where(
        m > 1, np.round(k * (length[which] - 1) / np.maximum(m - 1, 1)), 0
    ).astype(np.int64)
    closed = np.array([e[3] is not None for e in plan.enrolments])
    exit_review = closed[which] & (k == m - 1) & (m > 1)
    completed = np.array([e[4] in ("completed", "goals_met") for e in plan.enrolments])

    # Stage of change: a start at stage 1 to 3, drifting up by a per-enrolment gain per review.
    base = rng.choice(3, size=len(length), p=[0.45, 0.35, 0.2]) + 1
    gain = rng.uniform(-0.1, 0.7, size=len(length))
    stage = np.clip(base[which] + np.floor(gain[which] * k + rng.random(reviews)), 1, 5).astype(
        np.int64
    )
    moves = rng.poisson(0.3, size=reviews)
    rotating = (
        ("school_attendance", lambda n: np.clip(np.round(rng.normal(80, 15, n)), 0, 100)),
        ("school_enrolled", lambda n: (rng.random(n) < 0.8).astype(np.int64)),
        ("police_contacts", lambda n: rng.poisson(0.1, n)),
        ("arrests", lambda n: rng.poisson(0.05, n)),
        ("relapse", lambda n: (rng.random(n) < 0.05).astype(np.int64)),
        ("lapse", lambda n: (rng.random(n) < 0.06).astype(np.int64)),
        ("revictimisation", lambda n: (rng.random(n) < 0.04).astype(np.int64)),
    )
    turn = (k + which) % len(rotating)
    third_measure = np.array([codes[c] for c, _f in rotating])[turn]
    third_value = np.zeros(reviews, dtype=np.int64)
    for index, (_code, draw) in enumerate(rotating):
        mask = turn == index
        third_value[mask] = draw(int(mask.sum()))
    third_measure = np.where(exit_review, codes["program_completed"], third_measure)
    third_value = np.where(exit_review, completed[which].astype(np.int64), third_value)

    # Three rows a review, plus ``extra`` more school attendance rows at the first reviews.
    measure = np.concatenate(
        [
            np.full(reviews, codes["stage_of_change"]),
            np.full(reviews, codes["placement_moves"]),
            third_measure,
            np.full(extra, codes["school_attendance"]),
        ]
    )
    value = np.concatenate(
        [stage, moves, third_value, np.clip(np.round(rng.normal(80, 15, extra)), 0, 100)]
    ).astype(np.int64)
    review = np.concatenate([np.arange(reviews)] * 3 + [np.arange(extra)])
    order = np.argsort(day[review], kind="stable")
    measure, value, review = measure[order], value[order], review[order]
    rows_total = len(review)
    recorder = _providers(rng, arrays, arrays["agency"][which[review]])
    with_note = rng.random(rows_total) < 0.1
    note_pick = rng.integers(0, len(_OBSERVATION_NOTES), rows_total)

    day0 = plan.today - datetime.timedelta(days=DAYS)
    prep_youth = prepper(OutcomeObservation, "youth")
    prep_day = prepper(OutcomeObservation, "observed_on")
    prep_value = prepper(OutcomeObservation, "value")
    prep_note = prepper(OutcomeObservation, "note")
    prep_stamp = prepper(OutcomeObservation, "created_at")
    youth_db = [prep_youth(pk) for pk in plan.youth_ids]
    day_db = [prep_day(day0 + datetime.timedelta(days=d)) for d in range(DAYS + 1)]
    value_db = {v: prep_value(Decimal(v)) for v in range(0, 101)}
    stamp_db = [
        prep_stamp(
            min(
                plan.now,
                datetime.datetime.combine(
                    day0 + datetime.timedelta(days=d), datetime.time(16), tzinfo=plan.zone
                ),
            )
        )
        for d in range(DAYS + 1)
    ]
    enrolment_youth = arrays["youth"]

    def rows() -> Iterator[tuple[Any, ...]]:
        for lo in range(0, rows_total, BATCH):
            hi = min(lo + BATCH, rows_total)
            rs = review[lo:hi]
            ds = day[rs].tolist()
            notes = [
                prep_note(_OBSERVATION_NOTES[pick]) if noted else ""
                for noted, pick in zip(
                    with_note[lo:hi].tolist(), note_pick[lo:hi].tolist(), strict=True
                )
            ]
            yield from zip(
                [youth_db[y] for y in enrolment_youth[which[rs]].tolist()],
                measure[lo:hi].tolist(),
                [day_db[d] for d in ds],
                [value_db[v] for v in value[lo:hi].tolist()],
                notes,
                recorder[lo:hi].tolist(),
                [stamp_db[d] for d in ds],
                strict=True,
            )

    with indexes_deferred(OutcomeObservation):
        count = load_rows(
            OutcomeObservation,
            ["youth", "measure", "observed_on", "value", "note", "recorded_by", "created_at"],
            rows(),
        )
    log(f"{count:,} outcome observations")


def _build_measured_records(plan: Plan) -> None:
    """For the measured program's youth: referrals sent by its agency (with their history),
    contact attempts, missing episodes before and during enrolment, and screenings."""
    from django.db import transaction

    from safeharbor.contact.models import ContactAttempt, MissingEpisode
    from safeharbor.referrals.choices import NEED_CHOICES
    from safeharbor.referrals.models import Referral, ReferralEvent
    from safeharbor.screening import scoring, services
    from safeharbor.screening.models import Screening
    from safeharbor.screening.shipped import load_shipped_instruments

    rng = random.Random(SEED + 3)
    now, zone = plan.now, plan.zone
    day0 = datetime.datetime.combine(
        plan.today - datetime.timedelta(days=DAYS), datetime.time.min, tzinfo=zone
    )
    measured = [e for e in plan.enrolments if e[1] == plan.measured_program]
    agency_index = plan.program_agency[plan.measured_program]
    agency = plan.agency_ids[agency_index]
    workers = plan.staff.workers[agency_index]
    harbor_partners = [i for i, a in enumerate(AGENCIES) if a[2] == COUNTY and i != agency_index]
    needs = [code for code, _label in NEED_CHOICES]

    def moment(day: float) -> datetime.datetime:
        """A time on ``day`` (days from day0, fractions allowed) during the working day."""
        at = day0 + datetime.timedelta(days=math.floor(day), hours=rng.uniform(8, 20))
        return min(at, now - datetime.timedelta(minutes=rng.randint(60, 600)))

    # Referrals: about 1.5 a measured enrolment, sent while enrolled.
    referrals: list[Referral] = []
    events: list[ReferralEvent] = []
    for y, _p, first, last, _reason in measured:
        end = DAYS if last is None else last
        for _ in range(_poisson(rng, 1.5)):
            worker = rng.choice(workers)
            sent = moment(rng.uniform(first, end + 0.99))
            age = now - sent
            status = "requested" if age < datetime.timedelta(days=2) else None
            status = status or _weighted(rng, _REFERRAL_STATUSES)
            on_platform = rng.random() < 0.5
            partner = rng.choice(harbor_partners) if on_platform else None
            receiving = None if partner is None else plan.agency_ids[partner]
            organisation = rng.choice(_OFF_PLATFORM) if partner is None else AGENCIES[partner][0]
            # On the platform the service's own staff answer; off it the referring worker.
            answerer = worker if partner is None else rng.choice(plan.staff.workers[partner])
            accepted = None
            if status in _ACCEPTED:
                accepted = min(sent + datetime.timedelta(hours=rng.expovariate(1 / 30)), now)
            closed = None
            if status in _REFERRAL_OUTCOMES or status == "entered-in-error":
                closed = min((accepted or sent) + datetime.timedelta(days=rng.randint(1, 60)), now)
            referral = Referral(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                youth_id=plan.youth_ids[y],
                service_name="Youth support services",
                organization_name=organisation,
                referring_agency_id=agency,
                created_by_id=worker,
                receiving_agency_id=receiving,
                need=rng.choice(needs),
                priority=rng.choice(["routine", "routine", "urgent"]),
                note=rng.choice(("", "Prefers appointments after school, from 4 pm.")),
                callback=f"Caseworker, {MEASURED_AGENCY}, worker{worker}@bench.invalid",
                status=status,
                status_reason=_REFERRAL_REASONS.get(status, ""),
                outcome=rng.choice(_REFERRAL_OUTCOMES[status])
                if status in _REFERRAL_OUTCOMES
                else "",
                sent_at=sent,
                accepted_at=accepted,
                closed_at=closed,
                created_at=sent,
                updated_at=closed or accepted or sent,
            )
            referrals.append(referral)
            events.append(
                ReferralEvent(
                    referral=referral,
                    at=sent,
                    actor_id=worker,
                    actor_agency_id=agency,
                    from_status="draft",
                    to_status="requested",
                )
            )
            if status != "requested":
                events.append(
                    ReferralEvent(
                        referral=referral,
                        at=closed or accepted or sent,
                        actor_id=answerer,
                        actor_agency_id=receiving or agency,
                        from_status="requested",
                        to_status=status,
                        reason=referral.status_reason,
                        outcome=referral.outcome,
                    )
                )
    created_field = Referral._meta.get_field("created_at")
    updated_field = Referral._meta.get_field("updated_at")
    with transaction.atomic():
        created_field.auto_now_add = False
        updated_field.auto_now = False
        try:
            Referral.objects.bulk_create(referrals, batch_size=2000)
        finally:
            created_field.auto_now_add = True
            updated_field.auto_now = True
        ReferralEvent.objects.bulk_create(events, batch_size=5000)

    # Contact attempts: about one a week while enrolled, half of them reaching the youth.
    prep_youth = prepper(ContactAttempt, "youth")
    prep_at = prepper(ContactAttempt, "attempted_at")
    prep_note = prepper(ContactAttempt, "note")
    channels = ["phone", "phone", "text", "text", "in_person", "email", "social"]
    missed = ["no_answer", "left_message", "no_answer", "declined", "wrong_number", "unsafe"]
    attempts = []
    for y, _p, first, last, _reason in measured:
        end = DAYS if last is None else last
        for _ in range(_poisson(rng, (end - first + 1) / 7)):
            when = moment(rng.uniform(first, end + 0.99))
            attempts.append(
                (
                    prep_youth(plan.youth_ids[y]),
                    prep_at(when),
                    rng.choice(workers),
                    rng.choice(channels),
                    "reached" if rng.random() < 0.5 else rng.choice(missed),
                    prep_note(rng.choice(_CONTACT_NOTES)) if rng.random() < 0.15 else "",
                    prep_at(when + datetime.timedelta(minutes=rng.randint(1, 120))),
                )
            )
    attempts.sort(key=lambda row: row[6])
    load_rows(
        ContactAttempt,
        ["youth", "attempted_at", "attempted_by", "channel", "outcome", "note", "created_at"],
        attempts,
    )

    # Missing episodes: ~0.9 in the year before enrolment, ~0.6 a year while enrolled; closed,
    # reported and screened after return. At most one a youth at a time.
    episodes: list[MissingEpisode] = []
    busy: dict[int, list[tuple[float, float]]] = {}
    for y, _p, first, last, _reason in measured:
        end = DAYS if last is None else last
        windows = [(first - 365, first - 1, 0.9), (first, end, 0.6 * (end - first + 1) / 365)]
        for lo, hi, mean in windows:
            for _ in range(_poisson(rng, mean)):
                started_day = rng.uniform(lo, hi + 0.99)
                length = rng.uniform(0.3, 12)
                taken = busy.setdefault(y, [])
                if any(a <= started_day + length and started_day <= b for a, b in taken):
                    continue
                started = day0 + datetime.timedelta(days=started_day)
                ended = started + datetime.timedelta(days=length)
                if ended > now - datetime.timedelta(hours=8):
                    continue
                taken.append((started_day, started_day + length))
                learned = started + datetime.timedelta(hours=rng.uniform(0.5, 6))
                ended = max(ended, learned)
                worker = rng.choice(workers)
                episodes.append(
                    MissingEpisode(
                        youth_id=plan.youth_ids[y],
                        started_at=started,
                        learned_at=learned,
                        ended_at=ended,
                        last_seen_where="Bus stop near the high school",
                        clothing="Red jacket",
                        description="Star tattoo on the left wrist",
                        recorded_by_id=worker,
                        reported_to_law_enforcement_at=learned,
                        reported_to_law_enforcement_by_id=worker,
                        reported_to_ncmec_at=learned,
                        reported_to_ncmec_by_id=worker,
                        return_screening_at=ended + datetime.timedelta(hours=6),
                        return_screening_by_id=worker,
                    )
                )
    MissingEpisode.objects.bulk_create(episodes, batch_size=2000)

    # Screenings with the shipped instrument: a baseline near the start for most, follow-ups
    # about every four months, concern easing for most youth.
    ((instrument, _loaded),) = load_shipped_instruments()
    definition = instrument.definition
    questions = [item.link_id for item in definition.questions]
    screenings: list[Screening] = []
    for y, _p, first, last, _reason in measured:
        end = DAYS if last is None else last
        roll = rng.random()
        if roll < 0.1:
            continue
        baseline = first - rng.randint(0, 25) if roll < 0.85 else first + rng.randint(1, 28)
        days = [baseline] + list(range(first + 120, end + 1, 120))
        concern = rng.choice([0.05, 0.1, 0.2, 0.3])
        easing = rng.uniform(-0.02, 0.08)
        for n, day in enumerate(days):
            level = max(0.0, concern - easing * n)
            answers = {}
            for link_id in questions:
                draw = rng.random()
                answers[link_id] = "yes" if draw < level else "not-known" if draw > 0.95 else "no"
            result = scoring.score(definition, answers)
            when = moment(day + rng.random())
            screening = Screening(
                youth_id=plan.youth_ids[y],
                instrument=instrument,
                agency_id=agency,
                administered_by_id=rng.choice(workers),
                reason="intake" if n == 0 else "routine_rescreen",
                mode="interview_in_person",
                status="completed",
                started_at=when - datetime.timedelta(minutes=40),
                completed_at=when,
                computed_level=result.level,
                score=result.as_json(),
            )
            screening.answers = answers
            screenings.append(screening)
    with transaction.atomic():
        Screening.objects.bulk_create(screenings, batch_size=2000)
        services.latest_screenings_refresh(youth_ids={s.youth_id for s in screenings})
    log(
        f"measured program: {len(measured)} enrolments, {len(referrals)} referrals, "
        f"{len(attempts)} contact attempts, {len(episodes)} missing episodes, "
        f"{len(screenings)} screenings"
    )


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, normal approximation above 30)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


# --------------------------------------------------------------------------- measuring


def get_ok(client: Any, url: str, content_type: str = "text/html") -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, not 200")
    if not response["Content-Type"].startswith(content_type):
        raise SystemExit(f"GET {url} answered {response['Content-Type']}, not {content_type}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if not body:
        raise SystemExit(f"GET {url} answered an empty body")
    return body


@contextlib.contextmanager
def spans_of_sql() -> Iterator[list[tuple[float, str]]]:
    """Every statement executed inside, with the time its execute() took, in seconds. (On
    SQLite rows are stepped while they are fetched, after execute(): its SQL time reads low.)"""
    from django.db import connection

    spans: list[tuple[float, str]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spans.append((time.perf_counter() - t0, sql))

    with connection.execute_wrapper(wrapper):
        yield spans


def period(built_on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve full months before the build: what a funder asks for at year end."""
    first_of_month = built_on.replace(day=1)
    return first_of_month.replace(
        year=first_of_month.year - 1
    ), first_of_month - datetime.timedelta(days=1)


@dataclass
class Case:
    key: str
    label: str
    run: Callable[[], Any]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")


def check_figures(figures: Sequence[Any]) -> dict[str, int]:
    """Refuse to measure a dashboard with nothing in it: every figure the data is built for
    must rest on some data (n > 0)."""
    required = (
        "referral_completion",
        "matched_48h",
        "contact_success",
        "time_to_first_service",
        "retention_median",
        "missing_before",
        "missing_after",
        "screening_improved",
        "change_stage_of_change",
        "change_placement_moves",
    )
    by_key = {figure.key: figure for figure in figures}
    empty = [key for key in required if key not in by_key or by_key[key].n == 0]
    if empty:
        raise SystemExit(f"the dashboard has no data for {', '.join(empty)}")
    return {key: by_key[key].n for key in required}


def measure(scale: Scale, built_on: datetime.date) -> dict[str, Any]:
    from safeharbor.accounts.models import User
    from safeharbor.outcomes import effectiveness, exports, reports
    from safeharbor.outcomes.models import Program

    program = Program.objects.select_related("agency").get(
        agency__name=MEASURED_AGENCY, name=MEASURED_PROGRAM
    )
    supervisor = User.objects.get(username="supervisor")
    client = verified_client(supervisor)
    start, end = period(built_on)
    dates = {"start": start.isoformat(), "end": end.isoformat()}
    program_query = urlencode({"program": program.pk, **dates})
    period_query = urlencode(dates)

    # What the data holds for the measured period, and a check that the figures are not empty.
    figures = effectiveness.all_figures(program, start, end)
    n_of = check_figures(figures)
    funder = reports.funder_report(program, start, end)
    county = reports.county_report(COUNTY, start, end)
    served = funder.table("served").grand_total
    county_served = county.table("served").grand_total
    csv_bytes = len(exports.report_csv(funder))
    pdf_bytes = len(exports.report_pdf(funder))
    about = {
        "period": f"{start.isoformat()}..{end.isoformat()}",
        "program_enrolments_in_period": n_of["retention_median"],
        "program_youth_served": served,
        "county_youth_served": county_served,
        "figures": len(figures),
        "figure_n": n_of,
        "csv_bytes": csv_bytes,
        "pdf_bytes": pdf_bytes,
    }
    log(f"measured period {about['period']}: {json.dumps(about)}")

    cases = [
        Case(
            "dashboard",
            f"Program dashboard, all {len(figures)} effectiveness figures "
            f"(effectiveness.all_figures; {n_of['retention_median']:,} enrolments in the year)",
            lambda: effectiveness.all_figures(program, start, end),
        ),
        Case(
            "dashboard_page",
            "Program dashboard page with its charts, as the agency's supervisor (test client)",
            lambda: get_ok(client, f"/outcomes/programs/{program.pk}/dashboard/?{period_query}"),
        ),
        Case(
            "county_report",
            f"County report, {COUNTY} (reports.county_report; {county_served:,} youth served "
            "by its agencies in the year)",
            lambda: reports.county_report(COUNTY, start, end),
        ),
        Case(
            "county_page",
            "County report page, as the program agency's supervisor (test client)",
            lambda: get_ok(client, f"/outcomes/reports/county/?{period_query}"),
        ),
        Case(
            "funder_report",
            f"Funder report of the program (reports.funder_report; {served:,} youth served)",
            lambda: reports.funder_report(program, start, end),
        ),
        Case(
            "report_page",
            "Funder report page with its charts, as the agency's supervisor (test client)",
            lambda: get_ok(client, f"/outcomes/reports/?{program_query}"),
        ),
        Case(
            "csv_download",
            "Funder report CSV download (test client: report, file, audit)",
            lambda: get_ok(client, f"/outcomes/reports/export.csv?{program_query}", "text/csv"),
        ),
        Case(
            "pdf_download",
            "Funder report PDF download (test client: report, file with charts, audit)",
            lambda: get_ok(
                client, f"/outcomes/reports/export.pdf?{program_query}", "application/pdf"
            ),
        ),
        Case("csv_file", "CSV file alone", lambda: exports.report_csv(funder)),
        Case("pdf_file", "PDF file alone", lambda: exports.report_pdf(funder)),
    ]
    # Round robin, so that other work on the machine falls on every row alike.
    for round_number in range(scale.warmup + scale.requests):
        last: dict[str, float] = {}
        for case in cases:
            with spans_of_sql() as spans:
                c0, t0 = time.process_time(), time.perf_counter()
                case.run()
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            last[case.key] = wall
            if round_number < scale.warmup:
                continue
            case.wall.append(wall)
            case.cpu.append(cpu)
            case.sql.append(sum(t for t, _sql in spans))
            case.queries.append(len(spans))
            slowest = max(spans, default=(0.0, ""))
            if slowest[0] > case.slowest[0]:
                case.slowest = (slowest[0], " ".join(slowest[1].split())[:600])
        log(
            f"round {round_number + 1}/{scale.warmup + scale.requests}: "
            + ", ".join(f"{key} {seconds:.2f} s" for key, seconds in last.items())
        )
    results: dict[str, Any] = {}
    for case in cases:
        stats = summary(case.wall)
        results[case.key] = {
            "label": case.label,
            **stats,
            "cpu_p50": summary(case.cpu)["p50"],
            "sql_p50": summary(case.sql)["p50"],
            "queries": sorted(case.queries)[len(case.queries) // 2],
            "slowest_sql_s": round(case.slowest[0], 3),
            "slowest_sql": case.slowest[1],
        }
        log(
            f"{case.key}: p50 {stats['p50']} p95 {stats['p95']} max {stats['max']} s; "
            f"CPU p50 {results[case.key]['cpu_p50']} s; {results[case.key]['queries']} queries, "
            f"SQL p50 {results[case.key]['sql_p50']} s"
        )
    return {"about": about, "cases": results}


def database_facts(config: dict[str, Any], built_on: datetime.date) -> dict[str, Any]:
    from django.db import connection

    from safeharbor.accounts.models import Agency
    from safeharbor.audit.models import AuditEvent
    from safeharbor.outcomes.models import Enrolment, Program

    counts = _table_counts()
    facts: dict[str, Any] = {
        "vendor": connection.vendor,
        **counts,
        "agencies": Agency.objects.count(),
        "counties": Agency.objects.values("county").distinct().count(),
        "programs": Program.objects.count(),
        "measured_program_youth": Enrolment.objects.filter(
            program__name=MEASURED_PROGRAM, program__agency__name=MEASURED_AGENCY
        )
        .values("youth_id")
        .distinct()
        .count(),
        "audit_events": AuditEvent.objects.count(),
        "built_on": built_on.isoformat(),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('server_version'), pg_database_size(current_database()), "
                "current_setting('shared_buffers'), current_setting('work_mem'), "
                "current_setting('max_parallel_workers_per_gather')"
            )
            version, size, shared_buffers, work_mem, parallel = cursor.fetchone()
            facts.update(
                version=f"PostgreSQL {version}",
                size_mb=round(size / 2**20, 1),
                settings=f"shared_buffers={shared_buffers}, work_mem={work_mem}, "
                f"max_parallel_workers_per_gather={parallel}",
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
    facts["summary"] = (
        f"{facts['youth']:,} youth, {facts['agencies']} agencies in {facts['counties']} counties, "
        f"{facts['programs']} programs, {facts['enrolments']:,} enrolments, "
        f"{facts['services']:,} services delivered, {facts['observations']:,} outcome "
        f"observations; for the measured program's {facts['measured_program_youth']:,} youth "
        f"{facts['referrals']:,} referrals, {facts['contact_attempts']:,} contact attempts, "
        f"{facts['missing_episodes']:,} missing episodes, {facts['screenings']:,} screenings; "
        f"{facts['size_mb']:,} MB"
    )
    return facts


def metrics(
    measured: dict[str, Any], facts: dict[str, Any], build_info: dict[str, Any]
) -> list[dict[str, Any]]:
    vendor = facts["vendor"]
    cases = measured["cases"]
    rows: list[dict[str, Any]] = []

    def detail(key: str) -> str:
        m = cases[key]
        text = (
            f"p50 {m['p50']}, max {m['max']}; CPU of this process p50 {m['cpu_p50']}; "
            f"{m['queries']} queries, {m['sql_p50']} s executing SQL"
        )
        if key in ("csv_download", "pdf_download"):
            alone = cases[key.replace("download", "file")]
            text += f"; the file alone p50 {alone['p50']}"
        return text

    for key, m in cases.items():
        if key in ("csv_file", "pdf_file"):
            continue
        if key in TARGETS:
            # The targets differ by database: one row per database, each with its own target.
            for target_vendor, target in TARGETS[key].items():
                mine = target_vendor == vendor
                rows.append(
                    {
                        "key": f"{key}_{target_vendor}",
                        "label": f"{m['label']}, {VENDOR_NAME[target_vendor]} target",
                        "value": m["p95"] if mine else None,
                        "unit": "s",
                        "stat": "p95",
                        "target": target,
                        "detail": detail(key) if mine else "",
                    }
                )
            continue
        rows.append(
            {
                "key": key,
                "label": m["label"],
                "value": m["p95"],
                "unit": "s",
                "stat": "p95",
                "target": None,
                "detail": detail(key),
            }
        )
    built = ("cached, " if build_info.get("cached") else "") + f"built {build_info.get('built_at')}"
    steps = build_info.get("steps_seconds") or {}
    if steps:
        built += "; " + ", ".join(f"{k} {v} s" for k, v in steps.items())
    rows.append(
        {
            "key": "build_seconds",
            "label": "Build time (drop, migrate, load, analyse)",
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
            "detail": f"{facts['services']:,} services, {facts['observations']:,} observations",
        }
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or NAME).splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the scale")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    parser.add_argument("--requests", type=int, help="runs per row (after the warm-up)")
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
    built_on = datetime.date.fromisoformat(build_info["built_on"])
    facts = database_facts(config, built_on)
    log(f"{facts['version']}: {facts['summary']}")
    waited = wait_for_quiet(threshold=1.5, patience_s=args.quiet_wait, log=log)
    load_before = os.getloadavg()
    measure_started = time.perf_counter()
    measured = measure(scale, built_on)
    measure_seconds = round(time.perf_counter() - measure_started, 1)
    load_after = os.getloadavg()
    meta = read_meta()
    if meta is not None:
        remove_earlier_runs(meta)  # leave the database at its built scale
    result = {
        "benchmark": NAME,
        "title": TITLE,
        "quick": args.quick,
        "scale": {**asdict(scale), "requests": scale.requests, "warmup": scale.warmup},
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
        "metrics": metrics(measured, facts, build_info),
    }
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
