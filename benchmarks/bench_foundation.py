"""Foundation benchmark: the pages and the audit trail at 10,000 youth and 1,000,000 audit events.

Targets (the foundation issue): caseload page and youth page p95 server time at most 50 ms; audit
adds at most 2 ms to a request; "who accessed this record" at most 50 ms; on SQLite and PostgreSQL.

Run through ``make bench`` (``benchmarks/run.py``), or alone:

    DATABASE_URL=sqlite:////tmp/bench-foundation.sqlite3 \
        .venv/bin/python benchmarks/bench_foundation.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_foundation \
        .venv/bin/python benchmarks/bench_foundation.py

It prints one JSON object on stdout; progress goes to stderr.

The data: the demo's fictional agencies, ~50 youth per caseworker, 10,000 youth whose identifiers
are encrypted by the real model fields (bulk_create goes through ``get_db_prep_value``), care teams
(leads, clinicians, ended memberships, cross-agency members), consents in every state, notes, and
1,000,000 audit events forming a real hash chain (``audit.hashing.event_hash``, the chain head
updated), ~90 for a typical youth and ~580 for the busiest 1%. The database is dropped and
rebuilt when its fingerprint (scale, this builder's version, every migration, the code that
shapes the stored bytes) or its row counts do not match; otherwise the built database is reused,
after removing the audit events earlier runs wrote (the triggers lifted for that, as the
project's test ``flush`` does), so that every run measures at exactly the scale.

Server time is the wall time of ``django.test.Client.get`` in this process: URL resolution, every
middleware (sessions saved each request, MFA, CSP, axes), the view, its queries, its audit events
and the template. No network, no web server. A full run first waits (``--quiet-wait``, default
300 s) for the 1-minute load average to fall below ``--quiet-load`` (1.0), measures the audit
writers (alone, and pages with and without them, interleaved), then every page round robin, N
requests each after a warm-up.
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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from unittest import mock

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

NAME = "foundation"
TITLE = "Foundation: caseload, youth page, access log, API and the audit trail"
# Bump when the data that build() makes changes, so that cached databases are rebuilt.
BUILD_VERSION = 3
SEED = 2026
DEFAULT_URL = "sqlite:////tmp/bench-foundation.sqlite3"
# The code whose change alters what is stored (ciphertext, blind index, chain hashes, names).
FINGERPRINTED_FILES = (
    "safeharbor/core/crypto.py",
    "safeharbor/core/fields.py",
    "safeharbor/audit/hashing.py",
    "safeharbor/core/demo/people.py",
)
TARGET_PAGE_MS = 50.0
TARGET_AUDIT_MS = 2.0


@dataclass(frozen=True)
class Scale:
    youth: int
    events: int
    requests: int
    warmup: int
    record_calls: int
    caseload: int = 50  # youth led by each worker of an agency


FULL = Scale(youth=10_000, events=1_000_000, requests=200, warmup=20, record_calls=1000)
QUICK = Scale(youth=500, events=20_000, requests=30, warmup=5, record_calls=200)

# Share of the youth each agency owns, and the role of its front-line staff.
OWNERS = {
    "child_welfare": (0.5, "caseworker"),
    "probation": (0.2, "caseworker"),
    "clinic": (0.1, "clinician"),
    "lighthouse": (0.1, "advocate"),
    "shelter": (0.1, "advocate"),
}
EVENT_BATCH = 10_000
LIST_PAGE = 50  # names on one list page of the synthetic trail


log = logger(NAME)


# --------------------------------------------------------------------------- database set-up


def _fingerprint(scale: Scale) -> dict[str, Any]:
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    from safeharbor.youth.demo import AGENCIES

    loader = MigrationLoader(None, ignore_no_migrations=True)
    files = {
        name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:16]
        for name in FINGERPRINTED_FILES
    }
    # Every migration, by content: a cached schema must be exactly what the code expects.
    migrations = hashlib.sha256()
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        source = sys.modules[type(migration).__module__].__file__ or ""
        migrations.update(f"{app}.{name}".encode() + Path(source).read_bytes())
    keys = hashlib.sha256(
        (settings.SAFEHARBOR_DATA_KEYS + settings.SAFEHARBOR_BLIND_INDEX_KEY).encode()
    ).hexdigest()[:16]
    return {
        "build_version": BUILD_VERSION,
        "seed": SEED,
        "youth": scale.youth,
        "events": scale.events,
        "caseload": scale.caseload,
        "files": files,
        "keys": keys,
        "migrations": migrations.hexdigest()[:16],
        "agencies": hashlib.sha256(repr(AGENCIES).encode()).hexdigest()[:16],
    }


def _cache_problem(scale: Scale) -> str | None:
    """Why the existing database cannot be reused, or None when it can."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from safeharbor.audit.models import AuditEvent
    from safeharbor.youth.models import Youth

    meta = read_meta()
    if meta is None:
        return "no build marker"
    if meta.get("fingerprint") != _fingerprint(scale):
        return "built by other code or at another scale"
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "unapplied migrations"
    if Youth.objects.count() != scale.youth:
        return "youth count differs"
    anchor = AuditEvent.objects.filter(seq=scale.events).values_list("hash", flat=True).first()
    if anchor is None or anchor != meta.get("head_hash"):
        return "the built audit chain is not there"
    if AuditEvent.objects.filter(seq__lte=scale.events).count() != scale.events:
        return "built audit events are missing"
    return None


def trim_to_build(scale: Scale, head_hash: str) -> int:
    """Remove the events earlier runs wrote (``common.trim_audit_trail``) and re-analyse."""
    from django.db import connection

    count = trim_audit_trail(scale.events, head_hash)
    if count and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent, audit_auditlistedyouth")
    return count


def prepare_database(
    config: dict[str, Any], scale: Scale, rebuild: bool, verify_chain: bool
) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    if not rebuild and database_exists(config):
        problem = _cache_problem(scale)
        if problem is None:
            meta = read_meta() or {}
            log(f"reusing the database built {meta.get('built_at')}")
            trimmed = trim_to_build(scale, meta["head_hash"])
            if trimmed:
                log(f"removed {trimmed:,} audit events that earlier runs wrote")
            return {
                "cached": True,
                **{k: v for k, v in meta.items() if k not in ("fingerprint", "head_hash")},
            }
        log(f"rebuilding: {problem}")
    started = time.perf_counter()
    drop_and_create(config)
    log(f"migrating {config['NAME']}")
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - started
    built = build(scale)
    busy = built.pop("busy_youth")
    head_hash = built.pop("head_hash")
    steps = {"drop_create_migrate": round(migrate_s, 1), **built}
    if connection.vendor == "postgresql":
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            # What autovacuum would do after a bulk load: statistics and the visibility map.
            cursor.execute("VACUUM ANALYZE")
        steps["vacuum_analyze"] = round(time.perf_counter() - t0, 1)
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if verify_chain:
        from safeharbor.audit.selectors import audit_chain_verify

        t0 = time.perf_counter()
        checked, broken = audit_chain_verify()
        if broken is not None:
            raise SystemExit(f"the built audit chain is broken at #{broken.seq}: {broken.problem}")
        steps["audit_verify"] = round(time.perf_counter() - t0, 1)
        log(f"audit chain verified: {checked} events in {steps['audit_verify']} s")
    meta = {
        "fingerprint": _fingerprint(scale),
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 1),
        "steps_seconds": steps,
        "busy_youth": busy,
        "head_hash": head_hash,
    }
    write_meta(meta)
    return {
        "cached": False,
        **{k: v for k, v in meta.items() if k not in ("fingerprint", "head_hash")},
    }


# --------------------------------------------------------------------------- building the data


@dataclass
class Staff:
    id: int
    username: str
    agency: str
    role: str


def _record_numbers(rng: random.Random, count: int) -> list[str]:
    alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"  # as youth.services: no vowels, no look-alikes
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add("Y-" + "".join(rng.choice(alphabet) for _ in range(8)))
    return sorted(numbers, key=lambda _n: rng.random())


def build(scale: Scale) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from safeharbor.accounts.choices import Role
    from safeharbor.accounts.models import Agency, Membership, User
    from safeharbor.core import clock
    from safeharbor.core.crypto import blind_index
    from safeharbor.core.demo.people import PeopleGenerator
    from safeharbor.youth.choices import (
        GenderIdentity,
        NoteKind,
        RaceEthnicity,
        SignerKind,
        TeamRole,
    )
    from safeharbor.youth.demo import AGENCIES
    from safeharbor.youth.models import CareTeamMember, ConsentToShare, Note, Youth

    rng = random.Random(SEED)
    today = clock.today()
    people = PeopleGenerator(SEED, today)
    steps: dict[str, float] = {}

    # Agencies and staff ---------------------------------------------------------------
    agencies = {
        key: Agency(name=name, kind=kind, county="Harbor", is_victim_service_provider=vsp)
        for key, name, kind, vsp in AGENCIES
    }
    Agency.objects.bulk_create(agencies.values())
    by_name = dict(Agency.objects.values_list("name", "id"))
    agency_ids = {key: by_name[agency.name] for key, agency in agencies.items()}

    plan: list[tuple[str, str, str]] = []  # (username, agency key, role)
    for key, (share, role) in OWNERS.items():
        workers = max(1, round(scale.youth * share / scale.caseload))
        plan += [(f"{key}-{role[:2]}{i:03d}", key, role) for i in range(1, workers + 1)]
        plan += [(f"{key}-sup{i}", key, Role.SUPERVISOR) for i in range(1, workers // 10 + 2)]
        plan.append((f"{key}-admin", key, Role.AGENCY_ADMIN))
    plan += [
        (f"sheriff-le{i:02d}", "sheriff", Role.LAW_ENFORCEMENT)
        for i in range(1, max(2, scale.youth // 1000) + 1)
    ]
    password = make_password("bench-only-password-not-used")
    users = []
    for username, _key, _role in plan:
        person = people.person(min_age=25, max_age=60)
        users.append(
            User(
                username=username,
                first_name=person.given_name,
                last_name=person.family_name,
                password=password,
                email=f"{username}@bench.invalid",
            )
        )
    User.objects.bulk_create(users)
    ids = dict(User.objects.values_list("username", "id"))
    Membership.objects.bulk_create(
        Membership(user_id=ids[u], agency_id=agency_ids[k], role=r) for u, k, r in plan
    )
    staff = [Staff(ids[u], u, k, str(r)) for u, k, r in plan]
    workers_of = {
        key: [s for s in staff if s.agency == key and s.role == role]
        for key, (_share, role) in OWNERS.items()
    }
    supervisors_of = {
        key: [s for s in staff if s.agency == key and s.role == Role.SUPERVISOR] for key in OWNERS
    }
    clinicians = workers_of["clinic"]
    log(f"{len(agencies)} agencies, {len(staff)} staff")

    # Youth, with identifiers encrypted by the model fields -------------------------------
    owners: list[str] = []
    for key, (share, _role) in OWNERS.items():
        owners += [key] * round(scale.youth * share)
    owners = (owners + ["child_welfare"] * scale.youth)[: scale.youth]
    numbers = _record_numbers(rng, scale.youth)
    youth: list[Youth] = []
    for index, owner in enumerate(owners):
        person = people.person()
        youth.append(
            Youth(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                record_number=numbers[index],
                owning_agency_id=agency_ids[owner],
                given_name=person.given_name,
                family_name=person.family_name,
                preferred_name=rng.choice(("", "", "", "", "", "", "", "", "Jay", "Lu")),
                date_of_birth=person.date_of_birth,
                phone=person.phone,
                address=person.address,
                gender_identity=rng.choice(GenderIdentity.values),
                preferred_language=rng.choice(["en", "en", "es"]),
                county="Harbor",
                race_ethnicity=sorted(
                    rng.sample(RaceEthnicity.values[:-1], k=rng.choice([1, 1, 2]))
                ),
                duplicate_index=blind_index(
                    person.given_name, person.family_name, person.date_of_birth.isoformat()
                ),
            )
        )

    with build_step(steps, "youth", log), transaction.atomic():
        Youth.objects.bulk_create(youth, batch_size=1000)

    # Care teams, consents and notes ---------------------------------------------------------
    team_of: dict[uuid.UUID, list[Staff]] = {}
    members: list[CareTeamMember] = []
    consents: list[ConsentToShare] = []
    notes: list[Note] = []
    seen_per_agency: dict[str, int] = dict.fromkeys(OWNERS, 0)
    purposes = {
        "clinic": ([str(c) for c in ("identity", "screening")], "Health follow-up"),
        "sheriff": (["identity"], "Locate the youth if missing"),
        "probation": (["identity", "screening", "referrals"], "Coordinated case planning"),
        "child_welfare": (
            ["identity", "screening", "referrals", "notes"],
            "Placement and safety planning",
        ),
    }
    for y, owner in zip(youth, owners, strict=True):
        workers = workers_of[owner]
        lead = workers[seen_per_agency[owner] % len(workers)]
        seen_per_agency[owner] += 1
        start = today - datetime.timedelta(days=rng.randint(10, 700))
        team = [lead]
        members.append(
            CareTeamMember(youth_id=y.pk, user_id=lead.id, team_role=TeamRole.LEAD, starts_on=start)
        )
        if rng.random() < 0.15:  # a previous lead, no longer on the team
            former = rng.choice(workers)
            members.append(
                CareTeamMember(
                    youth_id=y.pk,
                    user_id=former.id,
                    team_role=TeamRole.CASEWORKER,
                    starts_on=start - datetime.timedelta(days=200),
                    ends_on=start - datetime.timedelta(days=1),
                )
            )
        if owner not in ("lighthouse", "shelter") and owner != "clinic" and rng.random() < 0.3:
            clinician = rng.choice(clinicians)
            team.append(clinician)
            members.append(
                CareTeamMember(
                    youth_id=y.pk,
                    user_id=clinician.id,
                    team_role=TeamRole.CLINICIAN,
                    starts_on=start,
                )
            )
        if owner == "probation" and rng.random() < 0.1:  # shared with a county caseworker
            partner = rng.choice(workers_of["child_welfare"])
            team.append(partner)
            members.append(
                CareTeamMember(
                    youth_id=y.pk,
                    user_id=partner.id,
                    team_role=TeamRole.CASEWORKER,
                    starts_on=start,
                )
            )
        team_of[y.pk] = team
        if rng.random() < 0.3:
            recipient = rng.choice([k for k in purposes if k != owner])
            categories, purpose = purposes[recipient]
            state = rng.choice(["live", "live", "expired", "revoked"])
            valid_from = today - datetime.timedelta(days=rng.randint(30, 400))
            expires_on = (
                today - datetime.timedelta(days=rng.randint(1, 20))
                if state == "expired"
                else today + datetime.timedelta(days=rng.randint(30, 365))
            )
            revoked = state == "revoked"
            consents.append(
                ConsentToShare(
                    youth_id=y.pk,
                    signer_kind=rng.choice(SignerKind.values),
                    signer_name=f"{y.given_name} {y.family_name}",
                    recipient_agency_id=agency_ids[recipient],
                    categories=categories,
                    purpose=purpose,
                    valid_from=valid_from,
                    expires_on=expires_on,
                    revoked_at=(clock.now() - datetime.timedelta(days=3)) if revoked else None,
                    revoked_reason="The youth asked to stop sharing." if revoked else "",
                    revoked_by_id=lead.id if revoked else None,
                    recorded_by_id=lead.id,
                )
            )
        for _ in range(rng.randint(0, 3)):
            notes.append(
                Note(
                    youth_id=y.pk,
                    author_id=lead.id,
                    kind=NoteKind.GENERAL,
                    body=rng.choice(_GENERAL_NOTES),
                )
            )
        if len(team) > 1 and team[1] in clinicians:
            notes.append(
                Note(
                    youth_id=y.pk,
                    author_id=team[1].id,
                    kind=NoteKind.CLINICAL,
                    body=rng.choice(_CLINICAL_NOTES),
                )
            )

    with build_step(steps, "care_team_consents_notes", log), transaction.atomic():
        CareTeamMember.objects.bulk_create(members, batch_size=2000)
        ConsentToShare.objects.bulk_create(consents, batch_size=1000)
        Note.objects.bulk_create(notes, batch_size=1000)

    log(
        f"{len(youth)} youth, {len(members)} care-team rows, {len(consents)} consents, "
        f"{len(notes)} notes"
    )

    with build_step(steps, "audit_events", log):
        head_hash = build_audit_chain(scale, rng, youth, team_of, supervisors_of, owners, staff)
    steps_and_facts: dict[str, Any] = dict(steps)
    steps_and_facts["head_hash"] = head_hash
    steps_and_facts["busy_youth"] = [
        str(youth[i].pk) for i in busy_youth_indexes(len(youth)) if owners[i] == "child_welfare"
    ]
    return steps_and_facts


_GENERAL_NOTES = (
    "Met at the drop-in centre. Youth engaged well and asked about school enrolment.",
    "Phone check-in. Youth said placement feels safe this week.",
    "Accompanied youth to a court date. Discussed the safety plan afterwards.",
    "Youth did not attend the planned meeting; left a message through the trusted adult.",
)
_CLINICAL_NOTES = (
    "Trauma-focused session. Youth practised grounding skills; sleep is improving.",
    "Screening for depressive symptoms repeated; scores lower than last month.",
)
# (action, object type, category, weight) of events about one youth.
_YOUTH_EVENTS = (
    ("view", "youth.youth", "identity,notes,referrals,screening,services", 70),
    ("view", "youth.youth", "clinical_notes,identity,notes,referrals,screening,services", 5),
    ("update", "youth.youth", "identity", 8),
    ("create", "youth.note", "notes", 8),
    ("create", "youth.careteammember", "identity", 2),
    ("export", "youth.consenttoshare", "identity", 1),
    ("view", "audit.accesslog", "", 2),
    ("create", "youth.consenttoshare", "identity", 4),
)
_OTHER_EVENTS = (
    ("login", "accounts.user"),
    ("logout", "accounts.user"),
    ("mfa_verified", "accounts.user"),
    ("list", "youth.youth"),
)


def busy_youth_indexes(count: int) -> list[int]:
    """Which youth (by build order) get many audit events: every hundredth."""
    return list(range(0, count, 100))


def build_audit_chain(
    scale: Scale,
    rng: random.Random,
    youth: Sequence[Any],
    team_of: dict[uuid.UUID, list[Staff]],
    supervisors_of: dict[str, list[Staff]],
    owners: Sequence[str],
    staff: Sequence[Staff],
) -> str:
    """``scale.events`` events over the last two years, chained exactly as ``record()`` chains;
    returns the last hash."""
    from django.db import transaction

    from safeharbor.audit.hashing import GENESIS_HASH, event_hash
    from safeharbor.audit.listing import listed_youth_digest
    from safeharbor.audit.models import AuditChainHead, AuditEvent, AuditListedYouth

    youth_share = 0.96  # the rest: logins, list pages, MFA
    # 1% of the youth are busy: 5% of the youth events go to them (~570 events each, against
    # ~90 for a typical youth), so the access log is also measured at its 200-row cap.
    busy = busy_youth_indexes(len(youth))
    kinds = [(a, o, c) for a, o, c, _w in _YOUTH_EVENTS]
    weights = [w for *_x, w in _YOUTH_EVENTS]
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=730)
    step_us = (730 * 24 * 3600 * 1_000_000) // (scale.events + 1)
    prev = GENESIS_HASH
    batch: list[AuditEvent] = []
    lists: list[AuditListedYouth] = []
    stored: set[str] = set()
    started = time.perf_counter()
    for seq in range(1, scale.events + 1):
        at = start + datetime.timedelta(microseconds=seq * step_us + rng.randint(0, step_us - 1))
        if rng.random() < youth_share:
            index = rng.choice(busy) if rng.random() < 0.05 else rng.randrange(len(youth))
            y = youth[index]
            action, object_type, category = rng.choices(kinds, weights)[0]
            if object_type == "audit.accesslog":
                actor = rng.choice(supervisors_of[owners[index]])
            else:
                actor = rng.choice(team_of[y.pk])
            event = AuditEvent(
                seq=seq,
                at=at,
                actor_id=actor.id,
                actor_label=actor.username,
                action=action,
                object_type=object_type,
                object_id=str(y.pk),
                youth_id=y.pk,
                category=category,
                reason="",
                ip_address=f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                prev_hash=prev,
            )
        else:
            actor = rng.choice(staff)
            action, object_type = rng.choice(_OTHER_EVENTS)
            object_id = str(actor.id)
            if action == "list":  # a page of names, stored as record_listed_youth stores it
                listed = [youth[i].pk for i in rng.sample(range(len(youth)), LIST_PAGE)]
                object_id = listed_youth_digest(listed)
                if object_id not in stored:
                    stored.add(object_id)
                    lists += [AuditListedYouth(list_digest=object_id, youth_id=pk) for pk in listed]
            event = AuditEvent(
                seq=seq,
                at=at,
                actor_id=actor.id,
                actor_label=actor.username,
                action=action,
                object_type=object_type,
                object_id=object_id,
                category="identity" if action == "list" else "",
                reason="",
                ip_address=f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                prev_hash=prev,
            )
        event.hash = prev = event_hash(event)
        batch.append(event)
        if len(batch) == EVENT_BATCH or seq == scale.events:
            with transaction.atomic():
                AuditEvent.objects.bulk_create(batch, batch_size=EVENT_BATCH)
                AuditListedYouth.objects.bulk_create(lists, batch_size=EVENT_BATCH)
                lists = []
                if seq == scale.events:
                    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
            batch = []
            if seq % 100_000 == 0:
                rate = seq / (time.perf_counter() - started)
                log(f"  {seq:,} audit events ({rate:,.0f}/s)")
    return prev


# --------------------------------------------------------------------------- measuring


def time_get(client: Any, url: str) -> float:
    """Milliseconds for one GET, which must answer 200."""
    t0 = time.perf_counter()
    response = client.get(url, headers=_headers(url))
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, not 200")
    return elapsed


def _headers(url: str) -> dict[str, str]:
    # An API client asks for JSON (a browser's Accept would get DRF's browsable HTML).
    return {"accept": "application/json"} if url.startswith("/api/") else {}


def query_profile(client: Any, url: str, repeat: int = 5) -> dict[str, Any]:
    """Where one request's time goes: its queries (count, time in the database driver, the
    slowest statement) and the rest (Python: middleware, view, decryption, template). Medians of
    ``repeat`` requests, timed by a connection execute wrapper (COMMITs are not statements and
    count as Python here)."""
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


@dataclass
class Subjects:
    caseworker: Any
    supervisor: Any
    caseload_youth: list[str]  # on the caseworker's care team today
    caseload_shown: int  # what the caseload page lists
    agency_youth: list[str]
    busy_youth: list[str]
    agency_pages: int


def pick_subjects(rng: random.Random, busy_youth: list[str]) -> Subjects:
    from django.db.models import Q

    from safeharbor.accounts.models import User
    from safeharbor.core import clock
    from safeharbor.youth.models import CareTeamMember
    from safeharbor.youth.selectors import youth_list

    caseworker = User.objects.get(username="child_welfare-ca001")
    supervisor = User.objects.get(username="child_welfare-sup1")
    today = clock.today()
    mine = sorted(
        {
            str(pk)
            for pk in CareTeamMember.objects.filter(
                Q(user=caseworker, starts_on__lte=today)
                & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
            ).values_list("youth_id", flat=True)
        }
    )
    shown = youth_list(actor=caseworker).count()
    agency = sorted(
        youth_list(actor=supervisor, only_my_caseload=False)
        .filter(owning_agency_id=supervisor.agency_id_or_none)
        .values_list("pk", flat=True)
    )
    visible = youth_list(actor=caseworker, only_my_caseload=False).count()
    return Subjects(
        caseworker,
        supervisor,
        mine,
        shown,
        [str(pk) for pk in rng.sample(agency, min(200, len(agency)))],
        busy_youth,
        agency_pages=max(1, math.ceil(visible / 50)),
    )


def time_calls(func: Any, scale: Scale) -> list[float]:
    times: list[float] = []
    for i in range(scale.warmup + scale.record_calls):
        t0 = time.perf_counter()
        func(i)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= scale.warmup:
            times.append(elapsed)
    return times


def audit_off() -> contextlib.ExitStack:
    """The youth selectors with their audit writers replaced by no-ops."""
    from safeharbor.youth import selectors

    def nothing(**_kwargs: Any) -> None:
        return None

    stack = contextlib.ExitStack()
    for name in ("record", "record_listed_youth"):
        if hasattr(selectors, name):
            stack.enter_context(mock.patch.object(selectors, name, nothing))
    return stack


def audit_ab(
    client: Any,
    urls: Sequence[str],
    scale: Scale,
) -> tuple[dict[str, float], dict[str, float]]:
    """The same requests with and without the audit writers, alternating ABBA against drift."""
    with_audit: list[float] = []
    without_audit: list[float] = []
    for i in range(scale.warmup + scale.requests):
        url = urls[i % len(urls)]
        for audited in (True, False) if i % 2 == 0 else (False, True):
            with contextlib.nullcontext() if audited else audit_off():
                t0 = time.perf_counter()
                response = client.get(url, headers=_headers(url))
                elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}, not 200")
            if i >= scale.warmup:
                (with_audit if audited else without_audit).append(elapsed)
    return summary(with_audit), summary(without_audit)


def _median_events(youth_ids: Sequence[str]) -> int:
    from safeharbor.audit.models import AuditEvent

    counts = sorted(AuditEvent.objects.filter(youth_id=pk).count() for pk in youth_ids)
    return round(counts[len(counts) // 2], -1) if counts else 0


def measure(scale: Scale, busy_youth: list[str]) -> dict[str, Any]:
    from django.db import connection

    from safeharbor.audit.choices import AuditAction
    from safeharbor.audit.models import AuditEvent
    from safeharbor.audit.services import record, record_listed_youth

    rng = random.Random(SEED + 1)
    subjects = pick_subjects(rng, busy_youth)
    cw = verified_client(subjects.caseworker)
    sup = verified_client(subjects.supervisor)
    pages = [f"/youth/?scope=all&page={rng.randint(1, subjects.agency_pages)}" for _ in range(50)]
    youth_pages = [f"/youth/{pk}/" for pk in subjects.caseload_youth]
    typical = _median_events(subjects.agency_youth[:20])
    busiest = _median_events(subjects.busy_youth[:20])
    endpoints: list[tuple[str, str, Any, list[str], float | None]] = [
        (
            "caseload_mine",
            f"Caseload page, my youth ({subjects.caseload_shown} listed of "
            f"{len(subjects.caseload_youth)} on my care team)",
            cw,
            ["/youth/"],
            TARGET_PAGE_MS,
        ),
        (
            "caseload_all",
            f"Caseload page, all youth I can see ({subjects.agency_pages} pages of 50), page 1",
            cw,
            ["/youth/?scope=all"],
            TARGET_PAGE_MS,
        ),
        ("caseload_all_any_page", "Caseload page, all youth, a random page", cw, pages, None),
        ("youth_page", "Youth page", cw, youth_pages, TARGET_PAGE_MS),
        (
            "access_log",
            f"Who accessed this record, a typical youth (~{typical} events)",
            sup,
            [f"/youth/{pk}/access-log/" for pk in subjects.agency_youth],
            TARGET_PAGE_MS,
        ),
        (
            "access_log_busy",
            f"Who accessed this record, a busy youth (~{busiest} events; "
            "the page shows the latest 200)",
            sup,
            [f"/youth/{pk}/access-log/" for pk in subjects.busy_youth],
            TARGET_PAGE_MS,
        ),
        ("api_list_mine", "API youth list, my youth", cw, ["/api/v1/youth/"], None),
        (
            "api_list_all",
            "API youth list, all I can see, page 1",
            cw,
            ["/api/v1/youth/?scope=all"],
            None,
        ),
        (
            "api_detail",
            "API youth detail",
            cw,
            [f"/api/v1/youth/{pk}/" for pk in subjects.caseload_youth],
            None,
        ),
    ]
    # Audit first, while the machine is quietest: its 2 ms budget is the most sensitive to other
    # work. The writers alone, then pages with and without them (interleaved A/B).
    ids = [uuid.UUID(pk) for pk in subjects.caseload_youth]

    def one_event(i: int) -> None:
        youth_id = ids[i % len(ids)]
        record(
            actor=subjects.caseworker,
            action=AuditAction.VIEW,
            object_type="youth.youth",
            object_id=youth_id,
            youth_id=youth_id,
            category="identity",
        )

    audit: dict[str, Any] = {"record": summary(time_calls(one_event, scale))}
    page_ids = [uuid.UUID(pk) for pk in subjects.agency_youth[:50]]

    def list_event(_i: int) -> None:
        record_listed_youth(
            actor=subjects.caseworker,
            action=AuditAction.LIST,
            object_type="youth.youth",
            youth_ids=page_ids,
            category="identity",
        )

    agency_ids = [uuid.UUID(pk) for pk in subjects.agency_youth]

    def new_list_event(_i: int) -> None:
        record_listed_youth(
            actor=subjects.caseworker,
            action=AuditAction.LIST,
            object_type="youth.youth",
            youth_ids=rng.sample(agency_ids, 50),
            category="identity",
        )

    list_scale = Scale(**{**asdict(scale), "record_calls": scale.record_calls // 5})
    audit["record_listed_youth_50"] = summary(time_calls(list_event, list_scale))
    audit["record_listed_youth_50_new"] = summary(time_calls(new_list_event, list_scale))
    for key, client, urls in (("youth_page", cw, youth_pages), ("caseload_mine", cw, ["/youth/"])):
        audited, bare = audit_ab(client, urls, scale)
        audit[key] = {
            "with_audit": audited,
            "without_audit": bare,
            "added_p50_ms": round(audited["p50"] - bare["p50"], 2),
            "added_p95_ms": round(audited["p95"] - bare["p95"], 2),
        }
        log(f"audit adds to {key}: p50 {audit[key]['added_p50_ms']} ms")

    # Round robin over the endpoints, so that a burst of other work on the machine lands on all
    # of them alike instead of on whichever happened to be measured then.
    times: dict[str, list[float]] = {key: [] for key, *_rest in endpoints}
    t0 = time.perf_counter()
    for i in range(scale.warmup + scale.requests):
        for key, _label, client, urls, _target in endpoints:
            elapsed = time_get(client, urls[i % len(urls)])
            if i >= scale.warmup:
                times[key].append(elapsed)
    log(f"{len(endpoints)} endpoints x {scale.requests} requests: {time.perf_counter() - t0:.1f} s")
    results: dict[str, Any] = {}
    for key, label, client, urls, target in endpoints:
        stats = summary(times[key])
        profile = query_profile(client, urls[0])
        results[key] = {"label": label, "target_ms": target, **stats, **profile, "url": urls[0]}
        log(
            f"{key}: p50 {stats['p50']} p95 {stats['p95']} max {stats['max']} ms, "
            f"{profile['queries']} queries"
        )

    audit["events_after"] = AuditEvent.objects.count()
    log(f"record(): {audit['record']}")
    return {"endpoints": results, "audit": audit, "vendor": connection.vendor}


# --------------------------------------------------------------------------- the report


def database_facts(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from safeharbor.audit.models import AuditEvent
    from safeharbor.youth.models import CareTeamMember, ConsentToShare, Note, Youth

    facts: dict[str, Any] = {
        "vendor": connection.vendor,
        "youth": Youth.objects.count(),
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
                "pg_total_relation_size('audit_auditevent'), "
                "current_setting('shared_buffers'), current_setting('fsync'), "
                "current_setting('synchronous_commit')"
            )
            version, size, audit_size, shared_buffers, fsync, sync_commit = cursor.fetchone()
            facts.update(
                version=f"PostgreSQL {version}",
                size_mb=round(size / 2**20, 1),
                audit_table_mb=round(audit_size / 2**20, 1),
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
            audit_mb = None
            with contextlib.suppress(Exception):
                cursor.execute(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'audit_auditevent%' "
                    "OR name LIKE 'audit_youth%' OR name LIKE 'audit_actor%' "
                    "OR name LIKE 'sqlite_autoindex_audit_auditevent%'"
                )
                audit_mb = round((cursor.fetchone()[0] or 0) / 2**20, 1)
            facts.update(
                version=f"SQLite {version}",
                size_mb=round(size / 2**20, 1),
                audit_table_mb=audit_mb,
                settings=f"journal_mode={journal}, synchronous=NORMAL",
            )
    return facts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scale, for a smoke run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip verifying the built audit chain"
    )
    parser.add_argument("--requests", type=int, help="requests per endpoint (after warm-up)")
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=1.0,
        help="measure once the 1-minute load average is below this",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="seconds to wait for that (default 300; 0 with --quick)",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.quick else 300.0
    if args.requests:
        scale = Scale(**{**asdict(scale), "requests": args.requests})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    config = db_config(url)
    import django

    django.setup()
    started = time.perf_counter()
    build_info = prepare_database(
        config, scale, rebuild=args.rebuild, verify_chain=not args.no_verify
    )
    facts = database_facts(config)
    log(
        f"{facts['version']}: {facts['youth']} youth, {facts['audit_events']:,} audit events, "
        f"{facts['size_mb']} MB"
    )
    waited = wait_for_quiet(args.quiet_load, args.quiet_wait, log) if args.quiet_wait else 0.0
    measure_started = time.perf_counter()
    load_before = os.getloadavg()
    measured = measure(scale, build_info.pop("busy_youth", []))
    load_after = os.getloadavg()
    result = {
        "benchmark": NAME,
        "title": TITLE,
        "quick": args.quick,
        "scale": asdict(scale),
        "database": facts,
        "build": build_info,
        "endpoints": measured["endpoints"],
        "audit": measured["audit"],
        "measure_seconds": round(time.perf_counter() - measure_started, 1),
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


def metrics(
    measured: dict[str, Any], facts: dict[str, Any], build_info: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows of the table in docs/performance.md (run.py lays them out)."""
    rows: list[dict[str, Any]] = []
    for key, e in measured["endpoints"].items():
        rows.append(
            {
                "key": key,
                "label": e["label"],
                "value": e["p95"],
                "unit": "ms",
                "stat": "p95",
                "target": e["target_ms"],
                "detail": f"p50 {e['p50']}, max {e['max']}; {e['queries']} queries "
                f"taking {e['sql_ms']} of {e['profile_total_ms']} ms",
            }
        )
    audit = measured["audit"]
    rows.append(
        {
            "key": "record_p95",
            "label": "Audit: record() alone, one event",
            "value": audit["record"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGET_AUDIT_MS,
            "detail": f"p50 {audit['record']['p50']}, max {audit['record']['max']}",
        }
    )
    for key, row_key, label in (
        ("record_listed_youth_50", "record_list_50_p95", "a list of 50 youth shown before"),
        ("record_listed_youth_50_new", "record_new_list_50_p95", "a new list of 50 youth"),
    ):
        if key not in audit:
            continue
        each = audit[key]
        rows.append(
            {
                "key": row_key,
                "label": f"Audit: record_listed_youth() alone, one list event naming {label}",
                "value": each["p95"],
                "unit": "ms",
                "stat": "p95",
                "target": None,
                "detail": f"p50 {each['p50']}, max {each['max']}",
            }
        )
    for key, label in (("youth_page", "youth page"), ("caseload_mine", "caseload page (my youth)")):
        ab = audit[key]
        rows.append(
            {
                "key": f"audit_added_{key}",
                "label": f"Audit: {label} with its audit minus without",
                "value": ab["added_p50_ms"],
                "unit": "ms",
                "stat": "p50 difference",
                "target": TARGET_AUDIT_MS,
                "detail": f"p50 {ab['with_audit']['p50']} against "
                f"{ab['without_audit']['p50']}; p95 difference "
                f"{ab['added_p95_ms']}",
            }
        )
    built = ("cached, " if build_info.get("cached") else "") + f"built {build_info.get('built_at')}"
    rows.append(
        {
            "key": "build_seconds",
            "label": "Build time (drop, migrate, load, verify)",
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
            "detail": f"audit table with its indexes {facts['audit_table_mb']} MB",
        }
    )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
