"""The read-replica router: only the reporting reads go to the replica, and only where one is
configured (DATABASE_REPLICA_URL); writes and every other read stay on the primary."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.test import override_settings

from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.core.routing import (
    REPLICA,
    ReportingReplicaRouter,
    in_reporting_reads,
    reporting_reads,
)
from safeharbor.core.tests.personas import World
from safeharbor.outcomes import reports, selectors, services
from safeharbor.outcomes.choices import ProgramKind, ReferralSource
from safeharbor.outcomes.models import Enrolment, Program, ServiceDelivery
from safeharbor.youth.models import Youth

from .test_settings import start_up


def test_reads_go_to_the_replica_only_inside_reporting_reads() -> None:
    router = ReportingReplicaRouter()
    assert router.db_for_read(Enrolment) == DEFAULT_DB_ALIAS
    assert not in_reporting_reads()
    with reporting_reads():
        assert in_reporting_reads()
        assert router.db_for_read(Enrolment) == REPLICA
        with reporting_reads():  # nested: still reporting, and still after the inner one
            assert router.db_for_read(ServiceDelivery) == REPLICA
        assert router.db_for_read(Youth) == REPLICA
    assert router.db_for_read(Enrolment) == DEFAULT_DB_ALIAS
    assert not in_reporting_reads()


def test_writes_and_migrations_stay_on_the_primary() -> None:
    router = ReportingReplicaRouter()
    with reporting_reads():
        assert router.db_for_write(AuditEvent) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Enrolment, instance=Enrolment()) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "outcomes") is True
    assert router.allow_migrate(REPLICA, "outcomes") is False
    assert router.allow_relation(Enrolment(), Program()) is True


def test_an_error_inside_leaves_the_context() -> None:
    with pytest.raises(RuntimeError), reporting_reads():
        raise RuntimeError
    assert not in_reporting_reads()


class _Recording(ReportingReplicaRouter):
    """The real router's answers, written down; the queries themselves still run on the one
    test database (there is no replica in tests)."""

    reads: ClassVar[list[tuple[str, str]]] = []
    writes: ClassVar[list[tuple[str, str]]] = []

    def db_for_read(self, model: Any, **hints: Any) -> str:
        self.reads.append((model._meta.label, super().db_for_read(model, **hints)))
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        self.writes.append((model._meta.label, super().db_for_write(model, **hints)))
        return DEFAULT_DB_ALIAS


@pytest.mark.django_db
def test_the_dashboard_and_the_reports_read_their_figures_from_the_replica(world: World) -> None:
    today = clock.today()
    program = services.program_create(
        actor=world.county_supervisor,
        name="Harbor Mentoring",
        kind=ProgramKind.MENTORING,
        starts_on=today - datetime.timedelta(days=400),
    )
    services.enrolment_start(
        actor=world.county_caseworker,
        youth=world.maya,
        program=program,
        starts_on=today - datetime.timedelta(days=100),
        referral_source=ReferralSource.SCHOOL,
    )
    start, end = today - datetime.timedelta(days=365), today
    _Recording.reads.clear()
    _Recording.writes.clear()
    with override_settings(DATABASE_ROUTERS=[f"{__name__}._Recording"]):
        dashboard = selectors.program_dashboard(
            actor=world.county_supervisor, program_id=program.pk, start=start, end=end
        )
        assert dashboard.youth_served == 1
        on_replica = {label for label, alias in _Recording.reads if alias == REPLICA}
        # The permission check's program lookup reads the primary; the figures the replica.
        assert ("outcomes.Program", DEFAULT_DB_ALIAS) in _Recording.reads
        assert {
            "outcomes.Enrolment",
            "outcomes.ServiceDelivery",
            "outcomes.OutcomeMeasure",
            "referrals.Referral",
            "contact.ContactAttempt",
        } <= on_replica
        # The view is audited on the primary.
        assert ("audit.AuditEvent", DEFAULT_DB_ALIAS) in _Recording.writes
        assert all(alias == DEFAULT_DB_ALIAS for _label, alias in _Recording.writes)

        _Recording.reads.clear()
        reports.funder_report(program, start, end)
        reports.county_report("Harbor", start, end)
        assert _Recording.reads
        assert all(alias == REPLICA for _label, alias in _Recording.reads)


def _settings_probe(tmp_path: Any, module: str, extra: dict[str, str]) -> str:
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "r = s.DATABASES.get('replica', {}); "
        "print(s.DATABASE_ROUTERS, sorted(s.DATABASES), r.get('NAME'), r.get('HOST'), "
        "r.get('TEST', {}).get('MIRROR'), r.get('CONN_MAX_AGE'), sep='|')"
    )
    result = start_up(tmp_path, code=probe, module=module, env=extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("module", ["config.settings.test", "config.settings.production"])
def test_a_replica_url_adds_the_replica_and_its_router(tmp_path: Any, module: str) -> None:
    replica = {"DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/safeharbor"}
    routers, aliases, name, host, test, conn_max_age = _settings_probe(
        tmp_path, module, replica
    ).split("|")
    assert routers == "['safeharbor.core.routing.ReportingReplicaRouter']"
    assert aliases == "['default', 'replica']"
    assert (name, host) == ("safeharbor", "replica.internal")
    assert test == "default"  # tests read the primary's test database (TEST MIRROR)
    if module.endswith("production"):
        assert conn_max_age == "60"


@pytest.mark.parametrize("module", ["config.settings.test", "config.settings.production"])
def test_without_a_replica_url_there_is_no_router(tmp_path: Any, module: str) -> None:
    routers, aliases, *_rest = _settings_probe(tmp_path, module, {}).split("|")
    assert routers == "[]"
    assert aliases == "['default']"


def test_a_malformed_replica_url_stops_start_up_with_one_line(tmp_path: Any) -> None:
    result = start_up(tmp_path, env={"DATABASE_REPLICA_URL": "pigeon://loft:1"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "DATABASE_REPLICA_URL" in line


def _options_probe(tmp_path: Any, module: str, extra: dict[str, str]) -> list[str]:
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(*(s.DATABASES[a].get('OPTIONS', {}).get(k) for a in ('default', 'replica') "
        "if a in s.DATABASES for k in ('server_side_binding', 'prepare_threshold')), sep='|')"
    )
    result = start_up(tmp_path, code=probe, module=module, env=extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


@pytest.mark.parametrize("module", ["config.settings.test", "config.settings.production"])
def test_postgresql_binds_on_the_server_and_prepares_repeated_statements(
    tmp_path: Any, module: str
) -> None:
    urls = {
        "DATABASE_URL": "postgres://app@db.internal:5432/safeharbor",
        "DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/safeharbor",
    }
    assert _options_probe(tmp_path, module, urls) == ["True", "5", "True", "5"]
    # Behind a pooler that cannot keep prepared statements: bound on the server, never prepared.
    off = {**urls, "DATABASE_PREPARE_THRESHOLD": "0"}
    assert _options_probe(tmp_path, module, off) == ["True", "None", "True", "None"]


def test_sqlite_gets_no_postgresql_options(tmp_path: Any) -> None:
    sqlite = {"DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3"}
    assert _options_probe(tmp_path, "config.settings.test", sqlite) == ["None", "None"]
